"""Replay a demo data dir: versions trained on growing prefixes of the real measurements.

Usage: ``python scripts/loop_replay.py DATA_DIR [--stages 4] [--min-steps 0,200] [--warm]
[--no-gate]``

The newest 20 % of each device's measurements (the loop's time-ordered split) is held out once.
The rest, in arrival order, is cut into growing prefixes; at each prefix a version is trained as
the worker's round would train it (its own time split, quick settings) and scored on the common
held-out rows with the prefix's rows of the device as context, as serving does. ``--warm`` chains
the versions (each warm-starts from the previous one). ``fewshot`` rows score the same versions
as if no device had a learned head (the context-only few-shot path).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from statistics import mean

from predictor.api import Predictor, Sample, load_predictor
from predictor.training.fit import QUICK_SETTINGS, FitSettings
from predictor.training.from_samples import train_from_samples
from service.core.config import Settings
from service.state import AppState
from service.training_round import load_samples, score_per_device, time_split

Scores = dict[str, dict[str, float | int | None]]


def read(data_dir: Path) -> tuple[list[Sample], dict[str, str]]:
    """Every measurement of the data dir, oldest first, and device kinds."""
    state = AppState.build(Settings(data_dir=data_dir.resolve()), load_predictor)
    try:
        return load_samples(state)
    finally:
        state.db.dispose()


def blind(samples: list[Sample] | tuple[Sample, ...], suffix: str = "~") -> list[Sample]:
    """The samples under renamed devices (no learned head matches: the few-shot path)."""
    return [replace(s, device=s.device + suffix) for s in samples]


def scores(p: Predictor, train: list[Sample], held: list[Sample], kinds: dict[str, str]) -> Scores:
    """Learned-head scores, and the few-shot scores under ``<device>~``."""
    out = score_per_device(p, train, held, kinds)
    kinds_blind = {k + "~": v for k, v in kinds.items()}
    out.update(score_per_device(p, blind(train), blind(held), kinds_blind))
    return out


def summary(s: Scores) -> dict[str, object]:
    """Mean MAPE of head and few-shot paths and per-device MAPE / Spearman."""
    heads = [float(v["mape"] or 0) for d, v in s.items() if not d.endswith("~")]
    few = [float(v["mape"] or 0) for d, v in s.items() if d.endswith("~")]
    return {
        "mean_mape": round(mean(heads), 3) if heads else None,
        "mean_mape_fewshot": round(mean(few), 3) if few else None,
        "per_device": {
            d: [round(float(v["mape"] or 0), 3), round(float(v["spearman"] or 0), 2)]
            for d, v in sorted(s.items())
        },
    }


def replay(
    samples: list[Sample],
    kinds: dict[str, str],
    settings: FitSettings,
    stages: int,
    warm: bool,
    min_dev: int,
    gate: bool,
) -> list[dict[str, object]]:
    """Train one version per prefix; score each on the common held-out rows."""
    train_all, held = time_split(samples, 0.2, 2)
    keep = {id(s) for s in train_all}
    pool = [s for s in samples if id(s) in keep]
    out: list[dict[str, object]] = []
    previous: Path | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, stages + 1):
            prefix = pool[: round(len(pool) * k / stages)]
            train, _ = time_split(prefix, 0.2, 2)
            path = Path(tmp) / f"v{k}"
            try:
                train_from_samples(train, path, settings, f"v{k}", min_dev, previous, gate)
            except ValueError as exc:
                out.append({"stage": k, "rows": len(prefix), "error": str(exc)})
                continue
            previous = path if warm else None
            predictor = load_predictor(path)
            row = {"stage": k, "rows": len(prefix), "heads": list(predictor.devices)}  # type: ignore[attr-defined]
            row.update(summary(scores(predictor, prefix, held, kinds)))
            out.append(row)
    return out


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--min-steps", default="0")
    parser.add_argument("--min-device-samples", type=int, default=15)
    parser.add_argument("--warm", action="store_true")
    parser.add_argument("--no-gate", action="store_true", help="keep every learned head")
    parser.add_argument("--epochs", type=int, default=QUICK_SETTINGS.epochs)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    samples, kinds = read(args.data_dir)
    for steps in (int(x) for x in args.min_steps.split(",")):
        settings = replace(QUICK_SETTINGS, min_steps=steps, epochs=args.epochs)
        rows = replay(
            samples,
            kinds,
            settings,
            args.stages,
            args.warm,
            args.min_device_samples,
            not args.no_gate,
        )
        label = {"min_steps": steps, "epochs": args.epochs, "warm": args.warm}
        label["gate"] = not args.no_gate
        print(json.dumps({"settings": label, "stages": rows}))


if __name__ == "__main__":
    main()
