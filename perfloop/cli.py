"""The ``perfloop`` console script.

Each package contributes its commands through a ``register(app, bench)`` function; heavy imports
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
app.add_typer(bench, name="bench")


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
    keep_running: bool = typer.Option(False, "--keep-running", help="Keep serving after."),
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

    from perfloop.demo import DemoConfig, run_loop

    cfg = DemoConfig(
        data_dir=Path(data_dir),
        backends=tuple(b for b in backends.split(",") if b),
        budget_s=budget,
        per_device=per_device,
        seed=seed,
    )
    console = Console()
    console.width = max(console.width, 100)
    run_loop(cfg, console, keep_running=keep_running)


def _register_all() -> None:
    from predictor.cli import register as register_predictor

    register_predictor(app, bench)
    try:
        from service.cli import register as register_service
    except ModuleNotFoundError as exc:  # service CLI lands with the service issue
        if exc.name != "service.cli":
            raise
    else:
        register_service(app, bench)
    try:
        from device_agents.cli import register as register_agents
    except ModuleNotFoundError as exc:  # agent CLI lands with the agents issue
        if exc.name != "device_agents.cli":
            raise
    else:
        register_agents(app, bench)
    from perfloop.zoo_cli import register as register_zoo

    register_zoo(app)


_register_all()
