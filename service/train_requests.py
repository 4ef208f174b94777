"""``POST /predictors/train`` in the API process: the request's round in a background thread.

The round itself (hold-out, train, compare, promote) is
:func:`service.training_round.run_round`, the same one ``perfloop worker`` runs; ``activate`` asks
for promotion when the candidate is better.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from service.core.locks import exclusive
from service.crud import predictors as predictor_crud
from service.state import AppState
from service.training_round import (
    RetrainConfig,
    TrainedVersion,
    Trainer,
    default_trainer,
    run_round,
)

logger = logging.getLogger(__name__)


def run_training(state: AppState, trainer: Trainer, request_id: int, activate: bool) -> None:
    """Run the request's training round; ``activate``: promote the candidate if it is better.

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
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        out_dir = state.settings.artifact_dir / f"request-{request_id}-{stamp}"
        config = RetrainConfig(quick=False, min_device_samples=20)  # the request's defaults
        result = run_round(state, config, params, trainer, out_dir=out_dir, promote=activate)
        with state.db.session(write=True) as session:
            predictor_crud.finish_train_request(
                session, request_id, version=result.version, error=None
            )
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


__all__ = [
    "TrainedVersion",
    "Trainer",
    "default_trainer",
    "run_training",
    "start_training",
]
