"""Predictor commands of the ``perfloop`` CLI: ``inspect`` and ``train``.

:func:`register` calls one small registration function per command. Heavy imports (onnx, torch)
happen inside the commands. The table helpers here are shared with the benchmark CLI.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer

from predictor.pretrain_cli import pretrain_command

SPACE_HELP = "Search space of the table: nasbench201 or fbnet."
DATA_HELP = "Latency CSV (arch column + one column per device, ms; .gz ok); repeat to join."
#: Rows a ``--quick`` run subsamples the table to.
QUICK_ROWS = 150


def register(app: typer.Typer) -> None:
    """Add the predictor's commands to the root app."""
    _register_inspect(app)
    _register_train(app)
    _register_strip(app)
    app.command("pretrain")(pretrain_command)


def parse_devices(
    value: str | None, default: tuple[str, ...], available: tuple[str, ...]
) -> tuple[str, ...]:
    """Comma-separated device names (``default`` when None), each checked against ``available``.

    Raises:
        typer.BadParameter: a device is not in the data (the message lists the valid ones).
    """
    chosen = tuple(d.strip() for d in value.split(",") if d.strip()) if value else default
    missing = [d for d in chosen if d not in available]
    if missing:
        raise typer.BadParameter(f"devices {missing} not in the data; devices: {list(available)}")
    return chosen


def load_table_graphs(space: str, data: list[Path], quick: bool) -> tuple[Any, list[Any]]:
    """A latency table (``QUICK_ROWS`` random rows with ``quick``) and its featurized graphs.

    Raises:
        typer.BadParameter: unknown space, or no table given and none found.
    """
    import numpy as np

    from predictor.data.tables import LatencyTable, default_table_path, load_tables
    from predictor.features.cache import featurize_archs
    from predictor.spaces.table_graphs import graph_builder

    if space not in ("nasbench201", "fbnet"):
        raise typer.BadParameter(f"space {space!r}; choose nasbench201 or fbnet")
    try:
        paths = data or [default_table_path(space)]
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--data") from exc
    table = load_tables(paths)
    if quick and len(table.archs) > QUICK_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(table.archs), QUICK_ROWS, replace=False))
        table = LatencyTable(
            tuple(table.archs[i] for i in rows), table.devices, table.latency_ms[rows]
        )
    name, to_ir = graph_builder(space)
    return table, featurize_archs(name, list(table.archs), to_ir)


def _register_train(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        out: Path = typer.Option(..., "--out", help="Artifact directory to create."),
        space: str = typer.Option("nasbench201", "--space", help=SPACE_HELP),
        data: list[Path] = typer.Option([], "--data", help=DATA_HELP),
        devices: str | None = typer.Option(None, "--devices", help="a,b,... (default: all)"),
        version: str | None = typer.Option(None, "--version-name", help="Artifact version."),
        quick: bool = typer.Option(False, "--quick", help="Tiny settings (seconds)."),
    ) -> None:
        """Train a predictor artifact on latency tables (every measured value of the devices)."""
        from predictor.training.fit import QUICK_SETTINGS, FitSettings
        from predictor.training.tables import train_on_table

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        table, graphs = load_table_graphs(space, data, quick)
        chosen = parse_devices(devices, table.devices, table.devices)
        settings = QUICK_SETTINGS if quick else FitSettings()
        path = train_on_table(table, graphs, chosen, settings, out, version)
        typer.echo(f"wrote predictor artifact {path}")


def parse_input_shapes(values: list[str]) -> dict[str, list[int]]:
    """Parse ``name=1,3,224,224`` options into a name -> shape mapping.

    Raises:
        typer.BadParameter: an option is not ``name=d1,d2,...`` with positive integer dims.
    """
    shapes: dict[str, list[int]] = {}
    for value in values:
        name, sep, dims = value.rpartition("=")
        try:
            shape = [int(d) for d in dims.split(",")] if sep and name else []
        except ValueError:
            shape = []
        if not shape or any(d <= 0 for d in shape):
            raise typer.BadParameter(
                f"{value!r} is not NAME=D1,D2,... with positive integer dims (e.g. x=1,3,224,224)",
                param_hint="--input-shape",
            )
        shapes[name] = shape
    return shapes


def _register_inspect(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect(
        model: Path = typer.Argument(..., help="ONNX model file."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
        input_shape: list[str] = typer.Option(
            [], "--input-shape", help="Concrete shape of a dynamic input: NAME=1,3,224,224."
        ),
    ) -> None:
        """Convert an ONNX model to the graph IR and print its static features."""
        from predictor.errors import ModelLoadError
        from predictor.ir.onnx_import import ir_from_onnx

        shapes = parse_input_shapes(input_shape)
        try:
            graph = ir_from_onnx(model, input_shapes=shapes)
        except ModelLoadError as exc:
            typer.echo(f"error: {exc.code}: {exc}", err=True)
            raise typer.Exit(code=2) from None
        summary = {**graph.summary(), "graph_only": _graph_only(model)}
        if as_json:
            typer.echo(json.dumps(summary, sort_keys=True))
        else:
            _print_table(model.name, summary)


def _graph_only(path: Path) -> bool:
    import onnx

    from predictor.ir.graph_only import is_graph_only

    return is_graph_only(onnx.load(str(path), load_external_data=False))


def _register_strip(app: typer.Typer) -> None:
    @app.command("strip")
    def strip(
        model: Path = typer.Argument(..., help="ONNX model file (weights inline or external)."),
        out: Path = typer.Option(..., "-o", "--out", help="Where to write the graph-only model."),
        min_bytes: int = typer.Option(
            1024, min=0, help="Initializers of at least this many bytes become references."
        ),
    ) -> None:
        """Write a graph-only copy of MODEL: shapes and graph kept, large weights left out.

        The copy uploads under the service's size limit and predicts exactly like the original
        (static features come from shapes); agents measure it with seeded random weights.
        """
        import onnx

        from predictor.errors import ModelLoadError
        from predictor.ir.graph_only import strip as strip_weights
        from predictor.ir.load import read_model_bytes

        try:
            # A protobuf file holds at most 2 GiB; bigger models keep external data already.
            stripped = strip_weights(read_model_bytes(model, 2**31), min_bytes=min_bytes)
        except ModelLoadError as exc:
            typer.echo(f"error: {exc.code}: {exc}", err=True)
            raise typer.Exit(code=2) from None
        onnx.save_model(stripped, str(out))
        typer.echo(f"{out}: {out.stat().st_size:,} bytes (from {model.stat().st_size:,})")


def _print_table(title: str, summary: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("feature")
    table.add_column("value", justify="right")
    for key in ("macs", "flops", "params", "model_bytes", "peak_activation_bytes", "num_nodes"):
        value = summary[key]
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    ops = summary["op_counts"]
    if isinstance(ops, dict):
        table.add_row("op_counts", ", ".join(f"{op}={n}" for op, n in ops.items()))
    table.add_row("graph_only", str(summary.get("graph_only", False)))
    table.add_row("unknown_ops", ", ".join(summary["unknown_ops"]) or "-")  # type: ignore[arg-type]
    table.add_row("inputs", json.dumps(summary["inputs"]))
    table.add_row("outputs", json.dumps(summary["outputs"]))
    Console().print(table)
