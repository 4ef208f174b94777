"""``perfloop bench fewshot``, ``fullshot``, ``throughput`` and ``ceiling`` (latency tables)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer

from predictor.cli import DATA_HELP, SPACE_HELP, load_table_graphs, parse_devices

LAYER_HELP = "GNN layer type: sage, gin or gat."
REFS_HELP = "Most reference archs per support set, rest random (default: NB201 half, else all)."
NOISE_SCALE_HELP = (
    "Factor on the few-shot head's leave-one-out noise (interval width; default: the head's)."
)
MEMO_HELP = "Reuse/store the meta-trained predictions (cache dir): re-runs skip meta-training."


def _fit_settings(layer: str, members: int, epochs: int) -> Any:
    """:class:`FitSettings` from CLI values (the layer type checked against the valid ones)."""
    from predictor.models.gnn import LAYER_TYPES
    from predictor.training.fit import FitSettings

    if layer not in LAYER_TYPES:
        raise typer.BadParameter(f"layer {layer!r}; choose one of {', '.join(LAYER_TYPES)}")
    return FitSettings(layer=layer, members=members, epochs=epochs)  # type: ignore[arg-type]


def _print_table(title: str, result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.predictor.fewshot import METHODS

    t = Table(title=title)
    t.add_column("device")
    for m in METHODS:
        t.add_column(f"{m} ρ / acc10")
    rows = {**result["devices"], "MEAN": result["overall"]}
    for device, scores in rows.items():
        t.add_row(
            device,
            *[f"{scores[m]['spearman']:.3f} / {scores[m]['acc_10']:.2f}" for m in METHODS],
        )
    Console().print(t)


def _write(result: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, sort_keys=True))
        typer.echo(f"wrote {out}")


def register_bench(bench: typer.Typer) -> None:
    """Add ``bench fewshot``, ``fullshot``, ``throughput`` and ``ceiling``."""
    _register_fewshot(bench)
    _register_fullshot(bench)
    _register_throughput(bench)
    _register_ceiling(bench)


def _register_fewshot(bench: typer.Typer) -> None:
    @bench.command("fewshot")
    def fewshot(
        space: str = typer.Option("nasbench201", "--space", help=SPACE_HELP),
        data: list[Path] = typer.Option([], "--data", help=DATA_HELP),
        train_devices: str | None = typer.Option(None, "--train-devices", help="a,b,..."),
        test_devices: str | None = typer.Option(None, "--test-devices", help="x,y,..."),
        samples: int = typer.Option(10, "--samples", help="Target-device samples (refs included)."),
        seeds: int = typer.Option(3, "--seeds"),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
        quick: bool = typer.Option(False, "--quick", help="Tiny settings (seconds)."),
        threads: int = typer.Option(
            1, "--threads", help="torch threads (1 is fastest when shared)."
        ),
        layer: str = typer.Option("sage", "--layer", help=LAYER_HELP),
        members: int = typer.Option(3, "--members", help="Meta-trained ensemble members."),
        epochs: int = typer.Option(30, "--epochs", help="Meta-training epochs per member."),
        memo: bool = typer.Option(False, "--memo", help=MEMO_HELP),
        max_refs: int | None = typer.Option(None, "--max-refs", help=REFS_HELP),
        noise_scale: float | None = typer.Option(
            None, "--noise-scale", min=0.0, help=NOISE_SCALE_HELP
        ),
    ) -> None:
        """Few-shot accuracy on unseen devices vs MACs-linear, lookup table and GBT baselines."""
        import torch

        from benchmarks.predictor.fewshot import FewShotBench, run_fewshot
        from benchmarks.predictor.references import reference_rows
        from predictor.data.splits import PUBLISHED_SPLITS
        from predictor.fewshot import FewShotConfig
        from predictor.training.fit import QUICK_SETTINGS

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        torch.set_num_threads(threads)
        table, graphs = load_table_graphs(space, data, quick)
        split = PUBLISHED_SPLITS[space].restricted_to(table.devices)
        bench_cfg = FewShotBench(
            space=space,
            train_devices=parse_devices(train_devices, split.train, table.devices),
            test_devices=parse_devices(test_devices, split.test, table.devices),
            samples=samples,
            seeds=1 if quick else seeds,
            train_samples=100 if quick else 900,
            settings=QUICK_SETTINGS if quick else _fit_settings(layer, members, epochs),
            memo=memo,
            max_refs=max_refs,
            fewshot=FewShotConfig()
            if noise_scale is None
            else FewShotConfig(noise_scale=noise_scale),
        )
        result = run_fewshot(table, graphs, bench_cfg, reference_rows(table.archs, space))
        _print_table(f"{space} few-shot, {samples} samples", result)
        _write(result, json_out)


def _register_fullshot(bench: typer.Typer) -> None:
    @bench.command("fullshot")
    def fullshot(
        space: str = typer.Option("nasbench201", "--space", help=SPACE_HELP),
        data: list[Path] = typer.Option([], "--data", help=DATA_HELP),
        devices: str | None = typer.Option(None, "--devices", help="x,y,... (default: test)"),
        samples: int = typer.Option(900, "--samples", help="Training rows per device."),
        seeds: int = typer.Option(1, "--seeds"),
        members: int = typer.Option(3, "--members", help="Ensemble members per device."),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
        quick: bool = typer.Option(False, "--quick", help="Tiny settings (seconds)."),
        threads: int = typer.Option(
            1, "--threads", help="torch threads (1 is fastest when shared)."
        ),
        layer: str = typer.Option("sage", "--layer", help=LAYER_HELP),
        epochs: int = typer.Option(30, "--epochs", help="Training epochs per member."),
    ) -> None:
        """Train on N rows of one device, test on the rest; all methods, per device."""
        import torch

        from benchmarks.predictor.fullshot import run_fullshot
        from predictor.data.splits import PUBLISHED_SPLITS
        from predictor.training.fit import QUICK_SETTINGS

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        torch.set_num_threads(threads)
        table, graphs = load_table_graphs(space, data, quick)
        split = PUBLISHED_SPLITS[space].restricted_to(table.devices)
        chosen = parse_devices(devices, split.test, table.devices)
        settings = QUICK_SETTINGS if quick else _fit_settings(layer, members, epochs)
        n = min(samples, 100) if quick else samples
        result = run_fullshot(table, graphs, chosen, n, settings, seeds)
        result["space"] = space
        _print_table(f"{space} full-shot, {n} samples", result)
        _write(result, json_out)


def _register_throughput(bench: typer.Typer) -> None:
    @bench.command("throughput")
    def throughput(
        space: str = typer.Option("nasbench201", "--space", help=SPACE_HELP),
        data: list[Path] = typer.Option([], "--data", help=DATA_HELP),
        graphs_n: int = typer.Option(4096, "--graphs", help="Graphs per timed call."),
        batch_size: int = typer.Option(128, "--batch-size", help="Graphs per forward pass."),
        threads: int = typer.Option(2, "--threads", help="torch intra-op threads."),
        workers: int = typer.Option(
            1, "--workers", help="Threads running batches in parallel (use with --threads 1)."
        ),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
    ) -> None:
        """Batch inference speed: featurized graphs per second for one device (default model)."""
        import torch

        from benchmarks.predictor.throughput import measure, untrained_ensemble
        from predictor.ensemble import set_inference_workers
        from predictor.training.fit import FitSettings

        torch.set_num_threads(threads)
        set_inference_workers(workers)
        _, graphs = load_table_graphs(space, data, quick=False)
        graphs = graphs[:graphs_n]
        settings = FitSettings()
        ensemble = untrained_ensemble(graphs, settings)
        rate = measure(ensemble, graphs, batch_size)
        nodes = sum(g.num_nodes for g in graphs) / len(graphs)
        result = {
            "space": space,
            "graphs": len(graphs),
            "mean_nodes": nodes,
            "members": settings.members,
            "hidden": settings.hidden,
            "threads": threads,
            "workers": workers,
            "batch_size": batch_size,
            "graphs_per_s": rate,
        }
        typer.echo(json.dumps(result))
        _write(result, json_out)


def _register_ceiling(bench: typer.Typer) -> None:
    @bench.command("ceiling")
    def ceiling(
        data: list[Path] = typer.Option([], "--data", help=DATA_HELP),
        devices: str | None = typer.Option(None, "--devices", help="x,y,... (default: test)"),
        model: bool = typer.Option(True, "--model/--no-model", help="Also fit the GBT check."),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
    ) -> None:
        """Noise ceilings of NAS-Bench-201 latency columns (rounding, cost-equivalent archs)."""
        from benchmarks.predictor.ceiling import run_ceiling
        from predictor.data.splits import PUBLISHED_SPLITS
        from predictor.data.tables import default_table_path, load_tables

        try:
            table = load_tables(data or [default_table_path("nasbench201")])
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--data") from exc
        split = PUBLISHED_SPLITS["nasbench201"].restricted_to(table.devices)
        chosen = parse_devices(devices, split.test, table.devices)
        result = run_ceiling(table, chosen, model)
        _print_ceiling(result)
        _write(result, json_out)


def _print_ceiling(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="NAS-Bench-201 noise ceilings (rho / MAPE / acc_10)")
    for col in ("device", "rounding >10%", "noise σ log", "oracle", "oracle live", "GBT 80%"):
        t.add_column(col)

    def fmt(s: dict[str, float] | None) -> str:
        if not s:
            return "-"
        return f"{s['spearman']:.3f} / {100 * s['mape']:.1f}% / {100 * s['acc_10']:.1f}%"

    for device, c in result["devices"].items():
        share = c["rounding_share_10"]
        t.add_row(
            device,
            "-" if share is None else f"{100 * share:.2f}%",
            f"{c['noise_std_log']:.3f}",
            fmt(c["oracle_all"]),
            fmt(c["oracle_live"]),
            fmt(c["position_model"]),
        )
    Console().print(t)
