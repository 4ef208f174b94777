"""Training requests: recorded in the database, run in a background thread when a trainer is
available (``predictor.api.train_predictor``), registering the result as a candidate version.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from predictor.api import Sample
from service.core.locks import exclusive
from service.crud import measurements as measurement_crud
from service.crud import predictors as predictor_crud
from service.retrain import TrainSettings, train_candidate
from service.state import AppState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainedVersion:
    """What a trainer produced: the version string, the artifact directory and its metrics."""

    version: str
    artifact_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)


#: samples, output directory, request params -> trained version.
Trainer = Callable[[Sequence[Sample], Path, dict[str, Any]], TrainedVersion]


def training_samples(state: AppState) -> list[Sample]:
    """Every measurement in the database as a predictor sample."""
    with state.db.session() as session:
        targets = measurement_crud.all_targets(session)
    graphs = state.graphs.graphs(state.db, [t[1] for t in targets])
    return [
        Sample(graph=g, device=dev, latency_ms=lat, energy_mj=en, peak_memory_bytes=mem)
        for g, (dev, _mid, lat, en, mem) in zip(graphs, targets, strict=True)
    ]


def run_training(state: AppState, trainer: Trainer, request_id: int, activate: bool) -> None:
    """Train on all measurements, register a candidate (and activate it when asked).

    Runs only while holding the trainer lock (like ``perfloop worker``); when another trainer
    holds it, the request stays queued for the worker.
    """
    with exclusive(state.db.engine, "trainer") as mine:
        if not mine:
            logger.info("another trainer is running; request %s stays queued", request_id)
            return
        _run_claimed(state, trainer, request_id, activate)


def _run_claimed(state: AppState, trainer: Trainer, request_id: int, activate: bool) -> None:
    with state.db.session(write=True) as session:
        if not predictor_crud.claim_train_request(session, request_id):
            logger.info("training request %s was claimed by another trainer", request_id)
            return
        params = dict(predictor_crud.get_train_request(session, request_id).params)
        active = predictor_crud.active(session)
        if active is not None and params.get("warm_start", True):
            params["init_from"] = active.artifact_path  # warm start from the active version
    try:
        samples = training_samples(state)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        out_dir = state.settings.artifact_dir / f"request-{request_id}-{stamp}"
        trained = trainer(samples, out_dir, params)
        with state.db.session(write=True) as session:
            predictor_crud.register(
                session, trained.version, str(trained.artifact_path), trained.metrics
            )
            if activate:
                predictor_crud.activate(session, trained.version)
            predictor_crud.finish_train_request(
                session, request_id, version=trained.version, error=None
            )
        state.predictors.invalidate()
    except Exception as exc:  # a failed training run is recorded, never crashes the server
        logger.exception("training request %s failed", request_id)
        with state.db.session(write=True) as session:
            predictor_crud.finish_train_request(
                session, request_id, version=None, error=f"{type(exc).__name__}: {exc}"
            )


def start_training(state: AppState, trainer: Trainer, request_id: int, activate: bool) -> None:
    """Run :func:`run_training` in a daemon thread."""
    thread = threading.Thread(
        target=run_training,
        args=(state, trainer, request_id, activate),
        name=f"perfloop-train-{request_id}",
        daemon=True,
    )
    state.training_threads.append(thread)
    thread.start()


def default_trainer() -> Trainer | None:
    """A trainer backed by ``predictor.api.train_predictor``, or None until it exists.

    It warm-starts from ``params["init_from"]`` (set to the active version's artifact by
    :func:`run_training` unless the request says ``warm_start: false``), falling back to a cold
    start when that artifact cannot be used.
    """
    from predictor import api

    train = getattr(api, "train_predictor", None)
    if train is None:
        return None

    def trainer(samples: Sequence[Sample], out_dir: Path, params: dict[str, Any]) -> TrainedVersion:
        init = params.get("init_from")
        settings = TrainSettings(
            quick=bool(params.get("quick", False)),
            min_device_samples=int(params.get("min_device_samples", 20)),
            init=Path(init) if init else None,
        )
        path, warm = train_candidate(samples, out_dir, params.get("version"), settings)
        version = api.load_predictor(path).version
        metrics = {
            "in_sample": api.evaluate(path, samples, ("latency_ms",)),
            "samples": len(samples),
            "warm_start_from": init if warm else None,
        }
        return TrainedVersion(version, Path(path), metrics)

    return trainer
