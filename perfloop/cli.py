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


@app.command()
def demo(
    per_space: int = typer.Option(2, help="Architectures sampled per search space."),
    seed: int = typer.Option(0, help="Sampler seed."),
) -> None:
    """Sample architectures from every search space, export to ONNX and show their graph IR."""
    from perfloop.demo import run_demo

    run_demo(per_space=per_space, seed=seed)


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


_register_all()
