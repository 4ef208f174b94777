"""The one training round: time-ordered hold-out split, train a candidate, compare, promote.

Both ways of training run it: ``perfloop worker`` (automatic rounds and queued requests) and
``POST /predictors/train`` (a background thread of the API, :mod:`service.train_requests`).
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from predictor.api import DeviceContext, Predictor, Sample, load_predictor, score, train_predictor
from service.crud import devices as device_crud
from service.crud import measurements as measurement_crud
from service.crud import predictors as predictor_crud
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
class TrainedVersion:
    """What a trainer produced: the version string, the artifact directory and its metrics."""

    version: str
    artifact_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)


#: samples, output directory, params (quick, min_device_samples, version, init_from) -> version.
Trainer = Callable[[Sequence[Sample], Path, dict[str, Any]], TrainedVersion]


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
        return measurement_crud.newest_id(session)


def load_samples(state: AppState) -> tuple[list[Sample], dict[str, str]]:
    """Every latency measurement as a sample, oldest first, and device name -> kind."""
    with state.db.session() as session:
        rows = measurement_crud.all_targets(session)
        kinds = device_crud.kinds(session)
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
        return found[0], Path(found[1]), state.predictors.load(Path(found[1]))
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


def default_trainer() -> Trainer:
    """The trainer behind ``predictor.api.train_predictor`` (what both training paths use).

    It warm-starts from ``params["init_from"]`` (set by :func:`run_round` to the active version's
    artifact unless the request says ``warm_start: false``), falling back to a cold start when
    that artifact cannot be used.
    """

    def trainer(samples: Sequence[Sample], out_dir: Path, params: dict[str, Any]) -> TrainedVersion:
        init = params.get("init_from")
        settings = TrainSettings(
            quick=bool(params.get("quick", False)),
            min_device_samples=int(params.get("min_device_samples", 20)),
            init=Path(init) if init else None,
        )
        path, warm = train_candidate(samples, out_dir, params.get("version"), settings)
        version = load_predictor(path).version
        return TrainedVersion(version, Path(path), {"warm_start_from": init if warm else None})

    return trainer


def run_round(
    state: AppState,
    config: RetrainConfig,
    params: dict[str, Any],
    trainer: Trainer | None = None,
    *,
    out_dir: Path | None = None,
    promote: bool = True,
) -> RoundResult:
    """Train a candidate on all but the held-out rows, compare with the active one, promote.

    Args:
        state: the service state (database, graphs, the predictor loader).
        config: hold-out split and the defaults of ``params``.
        params: a training request's params (``quick``, ``min_device_samples``, ``version``,
            ``warm_start``); missing ones come from ``config``.
        trainer: trains the candidate (default: :func:`default_trainer`).
        out_dir: the candidate's artifact directory (default: ``artifact_dir / version``).
        promote: activate the candidate when it is better (False: register it only).

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
    run_params = {
        "quick": config.quick,
        "min_device_samples": config.min_device_samples,
        **params,
        "version": version,
        "init_from": str(active[1]) if warm and active is not None else None,
    }
    target = out_dir or state.settings.artifact_dir / version
    trained = (trainer or default_trainer())(train, target, run_params)
    candidate = state.predictors.load(trained.artifact_path)
    per_device = score_per_device(candidate, train, held, kinds)
    active_scores = score_per_device(active[2], train, held, kinds) if active else None
    promoted = promote and better(per_device, active_scores)
    warmed = trained.metrics.get("warm_start_from") is not None
    metrics: dict[str, Any] = {
        **trained.metrics,
        "per_device": per_device,
        "active_per_device": active_scores,
        "compared_with": active[0] if active else None,
        "warm_start_from": active[0] if warmed and active is not None else None,
        "samples": len(samples),
        "train_samples": len(train),
        "holdout_samples": len(held),
        "max_measurement_id": newest,
    }
    with state.db.session(write=True) as session:
        predictor_crud.register(session, trained.version, str(trained.artifact_path), metrics)
        if promoted:
            predictor_crud.activate(session, trained.version)
    state.predictors.invalidate()
    logger.info("trained %s (%s)", trained.version, "promoted" if promoted else "candidate")
    return RoundResult(trained.version, promoted, per_device, active_scores or {})
