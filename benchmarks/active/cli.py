"""``perfloop bench active``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

#: Default budgets per regime: few-shot heads start at the 10 references, scratch models at 20.
DEFAULT_BUDGETS = {
    "published": "10,15,20,30,40,60",
    "gpu-meta": "10,15,20,30,40,60,80,100",
    "scratch": "20,40,80,120,160,200,240,320,400",
    "stacked": "10,20,40,80,120,160,200,240,320,400",
}
#: ``--quick`` tables have 150 rows (105 selectable).
QUICK_BUDGETS = {
    "published": "10,15,20,30",
    "gpu-meta": "10,15,20,30",
    "scratch": "20,30,40,60",
    "stacked": "10,20,30,40",
}
QUICK_ROWS = 150


def _names(
    value: str | None, default: tuple[str, ...], valid: tuple[str, ...], hint: str
) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in value.split(",") if v.strip()) if value else default
    bad = [v for v in chosen if v not in valid]
    if bad or (value and not chosen):
        raise typer.BadParameter(
            f"{bad or value!r} not valid; choose from {list(valid)}", param_hint=hint
        )
    return chosen


def _load(space: str, data: Path | None, rows: int) -> tuple[Any, list[Any]]:
    """The table (``rows`` random rows when > 0) and its featurized graphs."""
    import numpy as np

    from predictor.data.tables import LatencyTable, default_table_path, load_tables
    from predictor.features.cache import featurize_archs
    from predictor.spaces.table_graphs import graph_builder

    if space not in ("nasbench201", "fbnet"):
        raise typer.BadParameter(
            f"space {space!r}; choose nasbench201 or fbnet", param_hint="--space"
        )
    table = load_tables([data or default_table_path(space)])
    if rows and len(table.archs) > rows:
        idx = np.sort(np.random.default_rng(0).choice(len(table.archs), rows, replace=False))
        table = LatencyTable(
            tuple(table.archs[i] for i in idx), table.devices, table.latency_ms[idx]
        )
    name, to_ir = graph_builder(space)
    return table, featurize_archs(name, list(table.archs), to_ir)


def bench_active(
    space: str = typer.Option("nasbench201", help="nasbench201 or fbnet (tables in shared data)."),
    regime: str = typer.Option(
        "published",
        help="published, gpu-meta (held-out device family), scratch (no meta) or stacked "
        "(published + trees on the head's residuals).",
    ),
    data: Path | None = typer.Option(None, help="Latency CSV (default: the space's shared table)."),
    train_devices: str | None = typer.Option(None, help="a,b,... (default: the regime's)."),
    test_devices: str | None = typer.Option(None, help="a,b,... (default: the regime's)."),
    strategies: str | None = typer.Option(None, help="a,b,... (default: all; random always)."),
    seeds: int = typer.Option(3, help="Repetitions (held-out split, start, random picks)."),
    step: int = typer.Option(0, help="Most measurements per round (0: up to the next budget)."),
    budgets: str | None = typer.Option(None, help="Budgets scored (default: the regime's)."),
    quick: bool = typer.Option(False, help="150 table rows, tiny model, small budgets (seconds)."),
    rows: int = typer.Option(0, help="Subsample the table to this many rows (0: all)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
) -> None:
    """Selection strategies vs random: Spearman and acc_10 against measurement budget."""
    import torch

    from benchmarks.active.acquire import STRATEGIES
    from benchmarks.active.bench import ActiveSetup
    from benchmarks.active.run import REGIMES, headline, regime_devices, run_active
    from benchmarks.predictor.fewshot import FewShotBench
    from benchmarks.predictor.references import reference_rows
    from predictor.data.splits import PUBLISHED_SPLITS
    from predictor.training.fit import QUICK_SETTINGS, FitSettings

    _names(regime, (), REGIMES, "--regime")
    chosen = tuple(
        dict.fromkeys(("random", *_names(strategies, STRATEGIES, STRATEGIES, "--strategies")))
    )
    torch.set_num_threads(1)
    table, graphs = _load(space, data, QUICK_ROWS if quick else rows)
    train, tests = regime_devices(regime, *_split(PUBLISHED_SPLITS[space], table.devices))
    bench = FewShotBench(
        space=space,
        train_devices=_names(train_devices, train, table.devices, "--train-devices"),
        test_devices=_names(test_devices, tests, table.devices, "--test-devices"),
        train_samples=100 if quick else 900,
        settings=QUICK_SETTINGS if quick else FitSettings(),
    )
    setup = ActiveSetup(
        budgets=tuple(
            int(b)
            for b in (budgets or (QUICK_BUDGETS if quick else DEFAULT_BUDGETS)[regime]).split(",")
        ),
        step=step,
        seeds=seeds,
        strategies=chosen,
    )
    result = run_active(table, graphs, regime, bench, setup, reference_rows(table.archs, space))
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    typer.echo(json.dumps(headline(result), indent=2))


def _split(split: Any, available: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    s = split.restricted_to(available)
    return s.train, s.test
