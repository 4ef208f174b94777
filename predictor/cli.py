"""Predictor commands of the ``perfloop`` CLI.

:func:`register` calls one small registration function per command, so later commands (train,
evaluate, benchmarks) are added by writing a ``_register_<name>`` function and one call.
Heavy imports (onnx, torch) happen inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the predictor's commands to the root app and its ``bench`` group."""
    _register_inspect(app)
    app.command("pretrain")(__import__("predictor.pretrain_cli").pretrain_cli.pretrain_command)
    __import__("predictor.bench_cli").bench_cli.register_bench(app, bench)
    bench.command("active")(__import__("predictor.active.cli").active.cli.bench_active)


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
        summary = graph.summary()
        if as_json:
            typer.echo(json.dumps(summary, sort_keys=True))
        else:
            _print_table(model.name, summary)


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
    table.add_row("unknown_ops", ", ".join(summary["unknown_ops"]) or "-")  # type: ignore[arg-type]
    table.add_row("inputs", json.dumps(summary["inputs"]))
    table.add_row("outputs", json.dumps(summary["outputs"]))
    Console().print(table)
