"""``perfloop zoo``: sample the graph zoo and measure it on backends into a corpus."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from perfloop.zoo_measure import ZooMeasurer, ZooTally
    from predictor.spaces.zoo import ZooMember

zoo = typer.Typer(help="The graph zoo: sampled networks of many families.", no_args_is_help=True)

#: Real backends on this host, then the simulators.
DEFAULT_ZOO_BACKENDS = ("ort-cpu", "litert", "tflm", "ethos-u", "zigzag")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@zoo.command("measure")
def measure(
    per_family: int = typer.Option(100, "--per-family", min=1, help="Networks per family."),
    families: str = typer.Option("", help="Comma-separated families (default: all)."),
    backends: str = typer.Option(",".join(DEFAULT_ZOO_BACKENDS), help="Comma-separated."),
    out: Path = typer.Option(Path("datasets/zoo"), help="Corpus directory."),
    seed: int = typer.Option(0, help="Sampler seed."),
    isolate: bool = typer.Option(False, "--isolate", help="One child process per profile."),
    min_macs: float = typer.Option(2e5, min=0, help="Smallest network (MACs) sampled."),
    max_macs: float = typer.Option(1.5e9, min=0, help="Largest network (MACs) sampled."),
) -> None:
    """Sample the zoo (seeded) and measure it; re-running resumes without duplicates."""
    from device_agents.backends.registry import BACKENDS
    from perfloop.zoo_measure import ZooMeasurer
    from predictor.spaces.base import UnknownSpaceError
    from predictor.spaces.zoo import ZOO_FAMILIES, sample_zoo

    names = _split(backends)
    for name in names:
        if name not in BACKENDS:
            raise typer.BadParameter(
                f"unknown backend {name!r}; valid: {sorted(BACKENDS)}", param_hint="--backends"
            )
    if min_macs > max_macs:
        raise typer.BadParameter(f"{min_macs:g} > --max-macs {max_macs:g}", param_hint="--min-macs")
    try:
        members = sample_zoo(
            _split(families) or ZOO_FAMILIES, per_family, seed, int(min_macs), int(max_macs)
        )
    except UnknownSpaceError as exc:
        raise typer.BadParameter(str(exc), param_hint="--families") from exc
    measurer = ZooMeasurer(names, out, isolate=isolate)
    # SIGTERM unwinds like Ctrl-C, so the pair being profiled is not taken for a crash.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        tally = _run(measurer, members)
    finally:
        signal.signal(signal.SIGTERM, previous)
    typer.echo(
        f"{len(members)} networks x {len(names)} backends: measured {tally.measured}, "
        f"skipped {tally.skipped}, already in {out}: {tally.already}"
    )


def _run(measurer: ZooMeasurer, members: list[ZooMember]) -> ZooTally:
    """Measure under a Rich progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as bar:
        task = bar.add_task("zoo", total=len(members))

        def advance(done: int, total: int, family: str) -> None:
            bar.update(task, completed=done, description=f"zoo {family}")

        return measurer.measure(members, advance)


def register(app: typer.Typer) -> None:
    """Add ``perfloop zoo`` to the CLI."""
    app.add_typer(zoo, name="zoo")
