"""``perfloop worker``: the trainer and planner process (any number of API replicas beside it).

Each step: onboard new devices (reference architectures queued), run a training round when a
client asked for one (a queued row of ``train_requests``) or when ``retrain_every`` measurements
arrived since the newest version was trained, then top up the device queues (planner).
Training requests are claimed with a conditional update, so several workers never run the same.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from service.core.locks import exclusive
from service.crud import measurements as measurement_crud
from service.crud import predictors as predictor_crud
from service.models import utcnow
from service.onboarding import onboard
from service.planner import PlannerConfig, plan
from service.state import AppState
from service.training_round import (
    RetrainConfig,
    RoundResult,
    held_out_count,
    max_measurement_id,
    run_round,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What the worker does and how often."""

    retrain_every: int = 20
    min_samples: int = 8
    poll_seconds: float = 5.0
    onboard_spaces: tuple[str, ...] | None = ("nasbench201", "fbnet")
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    plan: bool = True


@dataclass
class StepReport:
    """What one step did (for logs and the demo's progress display)."""

    onboarded: dict[str, int] = field(default_factory=dict)
    trained: RoundResult | None = None
    planned: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def claim_request(state: AppState) -> tuple[int, dict[str, Any]] | None:
    """Mark the oldest queued training request running and return it (None: none queued)."""
    with state.db.session(write=True) as session:
        return predictor_crud.claim_oldest_train_request(session)


#: The error recorded on a training request whose trainer died while running it.
INTERRUPTED = "interrupted: the trainer stopped while running it (killed?)"


def recover_interrupted(state: AppState) -> int:
    """Requeue training requests left ``running`` by a trainer that died mid-round.

    Call only while holding the trainer lock: every trainer runs requests only under that lock
    and a dead holder releases it, so no request is really running when this process holds it.
    A request is requeued once (its ``error`` says why); interrupted again, it is failed, so a
    request that kills its trainer (out of memory, say) is not retried forever.

    Returns:
        How many requests were recovered.
    """
    with state.db.session(write=True) as session:
        rows = predictor_crud.running_train_requests(session)
        for row in rows:
            again = row.error is not None and row.error.startswith(INTERRUPTED)
            logger.warning("training request %s was %s", row.id, INTERRUPTED)
            row.status = "failed" if again else "queued"
            row.error = f"{INTERRUPTED} twice; not retried" if again else INTERRUPTED
            row.finished_at = utcnow() if again else None
        return len(rows)


def auto_request(state: AppState) -> int:
    """Record an automatic training request, already running; returns its id."""
    with state.db.session(write=True) as session:
        row = predictor_crud.create_train_request(session, {"auto": True})
        row.status = "running"
        return row.id


def last_trained_id(state: AppState) -> int:
    """The newest measurement id any version was trained with (0 when none was)."""
    with state.db.session() as session:
        return predictor_crud.newest_trained_measurement_id(session)


class Worker:
    """Trainer + planner loop over one service database."""

    def __init__(self, state: AppState, config: WorkerConfig, seed: int = 0) -> None:
        self.state = state
        self.config = config
        self.rng = random.Random(seed)
        self._attempted = -1

    def due(self) -> bool:
        """Enough new measurements since the newest trained version (and, before the first
        version, some device with enough training rows after the hold-out split)."""
        newest = max_measurement_id(self.state)
        if newest == self._attempted:  # the last round on this data failed; wait for more
            return False
        trained = last_trained_id(self.state)
        if trained == 0:
            return self._trainable()
        return newest - trained >= self.config.retrain_every

    def _trainable(self) -> bool:
        retrain = self.config.retrain
        with self.state.db.session() as session:
            counts = measurement_crud.counts_per_device(session)
            return any(
                n - held_out_count(n, retrain.holdout_fraction, retrain.min_holdout)
                >= max(retrain.min_device_samples, self.config.min_samples)
                for n in counts
            )

    def train(self, request_id: int, params: dict[str, Any]) -> RoundResult | None:
        """Run one round for ``request_id`` and record its outcome on the request."""
        try:
            result = run_round(self.state, self.config.retrain, params)
        except Exception as exc:  # recorded on the request; the worker keeps going
            logger.exception("training request %s failed", request_id)
            with self.state.db.session(write=True) as session:
                predictor_crud.finish_train_request(
                    session, request_id, version=None, error=f"{type(exc).__name__}: {exc}"
                )
            return None
        with self.state.db.session(write=True) as session:
            predictor_crud.finish_train_request(
                session, request_id, version=result.version, error=None
            )
            row = predictor_crud.get_train_request(session, request_id)
            row.finished_at = utcnow()
        return result

    def step(self) -> StepReport:
        """Onboard, train if asked or due, plan."""
        report = StepReport()
        report.onboarded = onboard(self.state, self.config.onboard_spaces)
        with exclusive(self.state.db.engine, "trainer") as mine:  # one trainer at a time
            if mine:
                recover_interrupted(self.state)
            claimed = claim_request(self.state) if mine else None
            if mine and claimed is None and self.due():
                self._attempted = max_measurement_id(self.state)
                claimed = (auto_request(self.state), {})
            if claimed is not None:
                report.trained = self.train(*claimed)
        if self.config.plan:
            report.planned = plan(self.state, self.config.planner, self.rng)
        return report

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set (a failing step is logged and retried next poll)."""
        while not stop.is_set():
            try:
                self.step()
            except Exception:  # keep the worker alive; the next poll retries
                logger.exception("worker step failed")
            stop.wait(self.config.poll_seconds)
