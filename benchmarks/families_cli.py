"""``perfloop bench families``: the leave-one-family-out benchmark of the zoo corpus."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import typer


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def bench_families(
    corpus: Path = typer.Option(Path("datasets/zoo"), help="Zoo corpus directory (*.jsonl.gz)."),
    table: list[Path] = typer.Option([], help="Published table to meta-train on; default: shared."),
    families: str = typer.Option("", help="Comma-separated families (default: all in corpus)."),
    shots: str = typer.Option("1,3,5", help="Measured members of the held-out family."),
    support: int = typer.Option(100, min=3, help="Other-family measurements per device head."),
    test_per_family: int = typer.Option(100, min=6, help="Held-out family members scored."),
    table_rows: int = typer.Option(
        300, min=0, help="Architectures drawn from each table (0: no tables)."
    ),
    mode: str = typer.Option(
        "retrain",
        help="retrain: per family, train on the corpus without it (the device's own head); "
        "fresh-device: one tables-only encoder, each device served few-shot.",
    ),
    members: int = typer.Option(2, min=1, help="Ensemble members."),
    epochs: int = typer.Option(30, min=1, help="Epochs per member (at least --min-steps)."),
    min_steps: int = typer.Option(1500, min=0, help="Fewest optimizer steps per member."),
    encoder: Path | None = typer.Option(None, help="Meta-trained artifact (never saw the corpus)."),
    save_encoder: Path | None = typer.Option(None, help="Keep the artifact trained here (empty)."),
    seed: int = typer.Option(0, help="Seed of the draws and the training."),
    quick: bool = typer.Option(False, help="Tiny model, 2 epochs, 20 table rows (tests)."),
    out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
) -> None:
    """Leave-one-family-out: zero-shot and k-shot accuracy per family and device."""
    from rich.progress import Progress

    from benchmarks.families import MODES, FamiliesBench, run_families
    from predictor.data.zoo import read_corpus
    from predictor.pretrain_cli import default_tables
    from predictor.training.fit import QUICK_SETTINGS, FitSettings

    files = tuple(sorted(corpus.glob("*.jsonl.gz"))) if corpus.is_dir() else ()
    if not files:
        raise typer.BadParameter(f"no *.jsonl.gz corpus files in {corpus}", param_hint="--corpus")
    try:
        k = tuple(int(v) for v in _csv(shots))
    except ValueError:
        raise typer.BadParameter(f"{shots!r}: not integers", param_hint="--shots") from None
    if any(v < 1 for v in k) or max(k, default=0) + 3 > test_per_family:
        raise typer.BadParameter("each shot >= 1, 3 members left", param_hint="--shots")
    if mode not in MODES:
        raise typer.BadParameter(f"{mode!r}: one of {list(MODES)}", param_hint="--mode")
    if (encoder or save_encoder) and mode == "retrain":
        raise typer.BadParameter("only with --mode fresh-device", param_hint="--encoder")
    settings = (
        QUICK_SETTINGS
        if quick
        else FitSettings(members=members, epochs=epochs, min_steps=min_steps, seed=seed)
    )
    config = FamiliesBench(
        corpus=files,
        tables=() if encoder or table_rows == 0 else default_tables(table),
        families=_csv(families),
        shots=k,
        support=support,
        test_per_family=test_per_family,
        table_rows=20 if quick else table_rows,
        settings=settings,
        encoder=encoder,
        save_encoder=save_encoder,
        seed=seed,
        mode=mode,  # type: ignore[arg-type]
    )
    logging.getLogger("predictor").setLevel(logging.WARNING)
    with Progress() as progress:
        task = progress.add_task("families", total=None)
        try:
            result = run_families(
                list(read_corpus(files)),
                config,
                lambda done, total, fam: progress.update(
                    task, completed=done, total=total, description=fam
                ),
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--families") from exc
    _print(result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, sort_keys=True))


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.targets import check_targets

    table = Table(title="leave-one-family-out (latency; % except ρ)")
    for col in (
        "family",
        "device",
        "0: MAPE",
        "0: medAPE",
        "0: ρ",
        "0: acc10",
        "0: cov90",
        "0: MACs MAPE",
        "0: lookup MAPE",
        "k1 MAPE",
        "k3 MAPE",
        "k5 MAPE",
        "k5 MACs",
    ):
        table.add_column(col)
    for family, devices in sorted(result["families"].items()):
        for device, rows in sorted(devices.items()):
            z = rows["zero_shot"]
            table.add_row(
                family,
                device,
                _pct(z["perfloop"]["mape"]),
                _pct(z["perfloop"]["median_ape"]),
                f"{z['perfloop']['spearman']:.3f}"
                if z["perfloop"]["spearman"] is not None
                else "-",
                _pct(z["perfloop"]["acc_10"]),
                _pct(z["perfloop"]["coverage_90"]),
                _pct(z["macs_power_law"]["mape"]),
                _pct(z["op_lookup"]["mape"]),
                *(_pct(rows.get(f"k{k}", {}).get("perfloop", {}).get("mape")) for k in (1, 3, 5)),
                _pct(rows.get("k5", {}).get("macs_power_law", {}).get("mape")),
            )
    console = Console(width=max(Console().width, 160))
    console.print(table)
    for row in check_targets(result):
        state = "met" if row["met"] else "NOT met"
        console.print(f"{row['device']}: {row['target']}: {row['figure']} -> {state}")
