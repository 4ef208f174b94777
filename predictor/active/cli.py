"""``perfloop bench active``."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def bench_active(
    space: str = typer.Option("nasbench201", help="nasbench201 or fbnet (tables in shared data)."),
    test_devices: str | None = typer.Option(None, help="a,b,... (default: the published split)."),
    seeds: int = typer.Option(3, help="Repetitions (held-out split and random picks)."),
    step: int = typer.Option(5, help="Measurements added per round."),
    budgets: str = typer.Option("10,15,20,30,40,60", help="Budgets scored, comma-separated."),
    quick: bool = typer.Option(False, help="150 table rows, tiny model (seconds)."),
    rows: int = typer.Option(0, help="Subsample the table to this many rows (0: all)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
) -> None:
    """Uncertainty-driven vs random selection: Spearman and acc_10 against measurement budget."""
    import numpy as np
    import torch

    from predictor.active.bench import ActiveSetup
    from predictor.active.run import run_active
    from predictor.bench.fewshot import FewShotBench
    from predictor.bench.graphs import graph_builder
    from predictor.bench.references import reference_rows
    from predictor.data.splits import PUBLISHED_SPLITS
    from predictor.data.tables import LatencyTable, default_table_path, load_tables
    from predictor.features.cache import featurize_archs
    from predictor.training.fit import QUICK_SETTINGS, FitSettings

    torch.set_num_threads(1)
    table = load_tables([default_table_path(space)])
    keep = 150 if quick else rows
    if keep and len(table.archs) > keep:
        idx = np.sort(np.random.default_rng(0).choice(len(table.archs), keep, replace=False))
        table = LatencyTable(
            tuple(table.archs[i] for i in idx), table.devices, table.latency_ms[idx]
        )
    name, to_ir = graph_builder(space)
    graphs = featurize_archs(name, list(table.archs), to_ir)
    split = PUBLISHED_SPLITS[space].restricted_to(table.devices)
    tests = tuple(test_devices.split(",")) if test_devices else split.test
    bench = FewShotBench(
        space=space,
        train_devices=split.train,
        test_devices=tests,
        train_samples=100 if quick else 900,
        settings=QUICK_SETTINGS if quick else FitSettings(),
    )
    setup = ActiveSetup(budgets=tuple(int(b) for b in budgets.split(",")), step=step, seeds=seeds)
    result = run_active(table, graphs, bench, setup, reference_rows(table.archs, space))
    text = json.dumps(result, indent=2, sort_keys=True)
    if json_out is not None:
        json_out.write_text(text + "\n")
    typer.echo(json.dumps({"overall": result["overall"], "savings": result["savings"]}, indent=2))
