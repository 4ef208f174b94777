"""One retraining round: time-ordered hold-out split, train a candidate, compare, promote.

The newest ``holdout_fraction`` of each device's measurements is held out; the candidate is
trained on the rest and both the candidate and the active version are scored on the held-out
rows, each given the device's training measurements as context (as serving does). The candidate
warm-starts from the active version's weights (``RetrainConfig.warm_start``, or the request's
``warm_start`` param) and is promoted only when it is better (lower mean MAPE over the devices
both were scored on).
Per-device figures go to ``metrics["per_device"][device]`` of the version row.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from predictor.api import DeviceContext, Predictor, Sample, load_predictor, score, train_predictor
from service.crud import predictors as predictor_crud
from service.models import Device, Measurement
from service.state import AppState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetrainConfig:
    """How a round trains and evaluates."""

    holdout_fraction: float = 0.2
    min_holdout: int = 2
    quick: bool = True
    min_device_samples: int = 10
    warm_start: bool = True


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """How one candidate is trained: quick settings, head threshold, artifact to start from."""

    quick: bool
    min_device_samples: int
    init: Path | None = None


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one round did."""

    version: str
    promoted: bool
    per_device: dict[str, dict[str, float | int | None]]
    active_per_device: dict[str, dict[str, float | int | None]]


def max_measurement_id(state: AppState) -> int:
    """The newest measurement id (0 when there is none)."""
    with state.db.session() as session:
        return int(session.scalar(select(func.max(Measurement.id))) or 0)


def load_samples(state: AppState) -> tuple[list[Sample], dict[str, str]]:
    """Every latency measurement as a sample, oldest first, and device name -> kind."""
    with state.db.session() as session:
        rows = session.execute(
            select(
                Measurement.device,
                Measurement.model_id,
                Measurement.latency_median_ms,
                Measurement.energy_mj,
                Measurement.peak_memory_bytes,
            ).order_by(Measurement.id)
        ).all()
        kinds = {d.name: d.kind for d in session.scalars(select(Device))}
    graphs = state.graphs.graphs(state.db, [r[1] for r in rows])
    samples = [
        Sample(graph=g, device=r[0], latency_ms=r[2], energy_mj=r[3], peak_memory_bytes=r[4])
        for g, r in zip(graphs, rows, strict=True)
    ]
    return samples, kinds


def held_out_count(n: int, fraction: float, min_holdout: int) -> int:
    """Rows held out of a device with ``n``: ``fraction`` of them, at least ``min_holdout``;
    none when the device has fewer than ``2 * min_holdout``."""
    if n < 2 * min_holdout:
        return 0
    return max(min_holdout, round(n * fraction))


def time_split(
    samples: Sequence[Sample], fraction: float, min_holdout: int
) -> tuple[list[Sample], list[Sample]]:
    """Split per device: the newest ``fraction`` (at least ``min_holdout``) is held out.

    A device with fewer than ``2 * min_holdout`` samples keeps them all for training.
    ``samples`` must be oldest first.
    """
    by_device: dict[str, list[Sample]] = {}
    for s in samples:
        by_device.setdefault(s.device, []).append(s)
    train: list[Sample] = []
    held: list[Sample] = []
    for rows in by_device.values():
        n_held = held_out_count(len(rows), fraction, min_holdout)
        train.extend(rows[: len(rows) - n_held])
        held.extend(rows[len(rows) - n_held :])
    return train, held


def score_per_device(
    predictor: Predictor,
    train: Sequence[Sample],
    held: Sequence[Sample],
    kinds: dict[str, str],
) -> dict[str, dict[str, float | int | None]]:
    """MAPE, Spearman, acc_10, 90% interval coverage and count of latency on the held-out rows."""
    out: dict[str, dict[str, float | int | None]] = {}
    for device in sorted({s.device for s in held}):
        rows = [s for s in held if s.device == device and (s.latency_ms or 0) > 0]
        if len(rows) < 2:
            continue
        support = tuple(s for s in train if s.device == device)
        context = DeviceContext(name=device, kind=kinds.get(device, "cpu"), samples=support)
        try:
            batch = predictor.predict([s.graph for s in rows], context, ("latency_ms",))
        except Exception:  # a version that cannot predict this device scores nothing
            logger.exception("version %s cannot predict %s", predictor.version, device)
            continue
        est = [e["latency_ms"] for e in batch.estimates]
        scores = score(
            [e.mean for e in est],
            [float(s.latency_ms or 0) for s in rows],
            [e.lo for e in est],
            [e.hi for e in est],
        ).as_dict()
        out[device] = {
            "mape": scores["mape"],
            "spearman": scores["spearman"],
            "acc_10": scores["acc_10"],
            "coverage_90": scores["coverage_90"],
            "count": len(rows),
        }
    return out


def better(
    candidate: dict[str, dict[str, float | int | None]],
    active: dict[str, dict[str, float | int | None]] | None,
) -> bool:
    """True when there is no active version or the candidate's mean MAPE is lower."""
    if active is None:
        return bool(candidate)
    common = [d for d in candidate if d in active]
    if not common:
        return len(candidate) > len(active)
    new = sum(float(candidate[d]["mape"] or 0) for d in common) / len(common)
    old = sum(float(active[d]["mape"] or 0) for d in common) / len(common)
    return new < old


def _active_predictor(state: AppState) -> tuple[str, Path, Predictor] | None:
    with state.db.session() as session:
        row = predictor_crud.active(session)
        found = (row.version, row.artifact_path) if row is not None else None
    if found is None:
        return None
    try:
        return found[0], Path(found[1]), load_predictor(Path(found[1]))
    except Exception:  # an unloadable active version is replaced by any working candidate
        logger.exception("active predictor %s cannot be loaded", found[0])
        return None


def train_candidate(
    train: Sequence[Sample], out_dir: Path, version: str | None, settings: TrainSettings
) -> tuple[Path, bool]:
    """Train the candidate, warm-started from ``settings.init`` when set; returns (path, warm).

    A warm start that fails (an artifact of another model size or IR version) falls back to
    training from scratch.
    """
    fit = partial(
        train_predictor,
        train,
        out_dir,
        version=version,
        quick=settings.quick,
        min_device_samples=settings.min_device_samples,
    )
    if settings.init is not None:
        try:
            return fit(init_from=settings.init), True
        except (OSError, ValueError, RuntimeError, KeyError):
            logger.exception("warm start from %s failed; training from scratch", settings.init)
            shutil.rmtree(out_dir, ignore_errors=True)
    return fit(), False


def run_round(state: AppState, config: RetrainConfig, params: dict[str, Any]) -> RoundResult:
    """Train a candidate on all but the held-out rows, compare with the active one, promote.

    Raises:
        ValueError: no device has enough samples to train on.
    """
    newest = max_measurement_id(state)
    samples, kinds = load_samples(state)
    train, held = time_split(samples, config.holdout_fraction, config.min_holdout)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    version = str(params.get("version") or f"v{stamp}")
    active = _active_predictor(state)
    warm = bool(params.get("warm_start", config.warm_start)) and active is not None
    settings = TrainSettings(
        quick=bool(params.get("quick", config.quick)),
        min_device_samples=int(params.get("min_device_samples", config.min_device_samples)),
        init=active[1] if warm and active is not None else None,
    )
    path, warmed = train_candidate(train, state.settings.artifact_dir / version, version, settings)
    per_device = score_per_device(load_predictor(path), train, held, kinds)
    active_scores = score_per_device(active[2], train, held, kinds) if active else None
    promote = better(per_device, active_scores)
    metrics: dict[str, Any] = {
        "per_device": per_device,
        "active_per_device": active_scores,
        "compared_with": active[0] if active else None,
        "warm_start_from": active[0] if warmed and active is not None else None,
        "train_samples": len(train),
        "holdout_samples": len(held),
        "max_measurement_id": newest,
    }
    with state.db.session(write=True) as session:
        predictor_crud.register(session, version, str(path), metrics)
        if promote:
            predictor_crud.activate(session, version)
    state.predictors.invalidate()
    logger.info("trained %s (%s)", version, "promoted" if promote else "kept as candidate")
    return RoundResult(version, promote, per_device, active_scores or {})
