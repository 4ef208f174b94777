"""The ``perfloop`` console script.

Each package contributes its commands through a ``register(app)`` function (the benchmarks, when
present, through ``benchmarks.commands.register(bench)``); heavy imports
(torch, onnx) happen inside the commands so ``perfloop --help`` stays fast.
"""

from __future__ import annotations

import typer

from perfloop import __version__

app = typer.Typer(
    name="perfloop",
    help="Predict latency, energy and peak memory of neural networks on devices; measure to learn.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bench = typer.Typer(
    help="Benchmarks whose results are recorded in docs/BENCHMARKS.md.", no_args_is_help=True
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """perfloop: hardware-in-the-loop performance prediction."""


DEFAULT_BACKENDS = ("ort-cpu", "litert", "ethos-u", "tflm-m7", "zigzag")


@app.command()
def demo(
    budget: float = typer.Option(420.0, help="Seconds the loop may run."),
    per_device: int = typer.Option(40, help="Stop once every device has this many measurements."),
    data_dir: str = typer.Option("./perfloop-data", help="Data dir (reused when re-run)."),
    backends: str = typer.Option(
        ",".join(DEFAULT_BACKENDS), help="Agent backends, comma-separated."
    ),
    keep_running: bool = typer.Option(False, "--keep-running", help="Same as --serve."),
    serve: bool | None = typer.Option(
        None,
        "--serve/--no-serve",
        help="Keep serving the dashboard after the table until Ctrl-C (default: when stdin "
        "is a terminal).",
    ),
    spaces_only: bool = typer.Option(False, "--spaces-only", help="Only the search-space table."),
    seed: int = typer.Option(0, help="Sampler seed."),
) -> None:
    """Run the whole loop locally: service, agents; measure, train, predict, re-measure."""
    if spaces_only:
        from perfloop.spaces_demo import run_demo

        run_demo(per_space=2, seed=seed)
        return
    from pathlib import Path

    from rich.console import Console

    from perfloop.demo import DemoConfig, run_loop, should_serve

    cfg = DemoConfig(
        data_dir=Path(data_dir),
        backends=tuple(b for b in backends.split(",") if b),
        budget_s=budget,
        per_device=per_device,
        seed=seed,
    )
    console = Console()
    console.width = max(console.width, 100)
    run_loop(cfg, console, keep_running=keep_running or should_serve(serve))


BENCH_MISSING = (
    "the benchmarks are not installed: they live in the repository's benchmarks/ package; "
    "run from a checkout with `pip install -e '.[bench]'`"
)


def _bench_missing() -> None:
    """Benchmarks (not installed: they live in a checkout's benchmarks/ package)."""
    typer.echo(f"error: {BENCH_MISSING}", err=True)
    raise typer.Exit(code=2)


def _register_bench() -> None:
    try:
        from benchmarks.commands import register as register_benchmarks
    except ModuleNotFoundError as exc:  # a wheel install: benchmarks ship only in the checkout
        if exc.name not in ("benchmarks", "benchmarks.commands"):
            raise
        extra = {"allow_extra_args": True, "ignore_unknown_options": True}
        app.command("bench", context_settings=extra, add_help_option=False)(_bench_missing)
    else:
        register_benchmarks(bench)
        app.add_typer(bench, name="bench")


def _register_all() -> None:
    from device_agents.cli import register as register_agents
    from perfloop.zoo_cli import register as register_zoo
    from predictor.cli import register as register_predictor
    from service.cli import register as register_service

    register_predictor(app)
    register_service(app)
    register_agents(app)
    register_zoo(app)
    _register_bench()


_register_all()
