"""``perfloop pretrain``: rebuild the predictor shipped with perfloop, with a progress bar."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

CORPUS_HELP = "Directory of the measured graph-zoo corpus (*.jsonl.gz)."
TABLE_HELP = "Published latency table (nasbench201*/fbnet* .csv[.gz]); repeat. Default: shared."
EXCLUDE_HELP = "Comma-separated devices never trained on (default: HELP's few-shot test devices)."
SHIPPED_DIR = "predictor/pretrained/artifact"


class _EpochTicks(logging.Handler):
    """Advances a progress bar on each epoch the trainer logs."""

    def __init__(self, advance: object) -> None:
        super().__init__(logging.INFO)
        self._advance = advance

    def emit(self, record: logging.LogRecord) -> None:
        """One tick per ``epoch N loss ...`` record."""
        if record.getMessage().startswith("epoch "):
            self._advance()  # type: ignore[operator]


def default_tables(values: list[Path]) -> tuple[Path, ...]:
    """``values``, or the shared NAS-Bench-201 and FBNet tables when empty.

    Raises:
        typer.BadParameter: no value and the shared tables are not found.
    """
    from predictor.data.tables import default_table_path

    if values:
        return tuple(values)
    try:
        return (default_table_path("nasbench201"), default_table_path("fbnet"))
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--table") from exc


def pretrain_command(
    out: Path = typer.Option(..., help=f"Empty directory for the artifact (ships: {SHIPPED_DIR})."),
    corpus: Path = typer.Option(Path("datasets/zoo"), help=CORPUS_HELP),
    table: list[Path] = typer.Option([], help=TABLE_HELP),
    table_rows: int = typer.Option(300, min=0, help="Architectures drawn from each table."),
    exclude: str | None = typer.Option(None, help=EXCLUDE_HELP),
    members: int = typer.Option(2, min=1, help="Ensemble members."),
    epochs: int = typer.Option(30, min=1, help="Epochs per member (at least --min-steps steps)."),
    # 1,500 steps left the GNN at 19 % MAPE on held-out zoo networks where 6,000 gave 12 % and
    # 15,000 gave 11 % (docs/BENCHMARKS.md, "Shipped predictor").
    min_steps: int = typer.Option(10000, min=0, help="Fewest optimizer steps per member."),
    seed: int = typer.Option(0, help="Seed of the table draws and the training."),
    version: str = typer.Option("shipped-2", help="Version string of the artifact."),
    quick: bool = typer.Option(False, help="Tiny model, 20 table rows (tests, smoke runs)."),
) -> None:
    """Meta-train the shipped predictor on the zoo corpus and the published tables."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from predictor.training.fit import QUICK_SETTINGS, FitSettings
    from predictor.training.pretrain import (
        HELP_TEST_DEVICES,
        PretrainConfig,
        pretrain_samples,
        train_shipped,
        training_epochs,
    )

    files = tuple(sorted(corpus.glob("*.jsonl.gz"))) if corpus.is_dir() else ()
    if not files:
        raise typer.BadParameter(f"no *.jsonl.gz corpus files in {corpus}", param_hint="--corpus")
    if out.exists() and any(out.iterdir()):
        raise typer.BadParameter(f"{out} is not empty", param_hint="--out")
    settings = (
        QUICK_SETTINGS
        if quick
        else FitSettings(members=members, epochs=epochs, min_steps=min_steps, seed=seed)
    )
    excluded = tuple(d for d in (exclude or "").split(",") if d) if exclude else HELP_TEST_DEVICES
    config = PretrainConfig(
        corpus=files,
        tables=default_tables(table),
        table_rows=20 if quick else table_rows,
        exclude_devices=excluded,
        settings=settings,
        seed=seed,
        version=version,
    )
    start = time.perf_counter()
    columns = ("{task.description:<10}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        graphs = progress.add_task("graphs", total=None)
        samples = pretrain_samples(
            config, lambda done, total: progress.update(graphs, completed=done, total=total)
        )
        epochs_task = progress.add_task("training", total=training_epochs(samples, config))
        handler = _EpochTicks(lambda: progress.advance(epochs_task))
        trainer_log = logging.getLogger("predictor.training.trainer")
        trainer_log.addHandler(handler)
        trainer_log.setLevel(logging.INFO)
        try:
            path = train_shipped(samples, config, out)
        finally:
            trainer_log.removeHandler(handler)
    size = sum(p.stat().st_size for p in path.iterdir())
    typer.echo(
        f"{path}: {len(samples)} samples, {size / 1e6:.2f} MB, {time.perf_counter() - start:.0f} s"
    )
