"""In-process training (the API's background thread) and the worker never train the same
request: both claim it with the same conditional update (queued -> running), whoever holds the
trainer lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from predictor.api import Sample
from service.core.config import Settings
from service.crud import predictors as predictor_crud
from service.models import PredictorVersion
from service.state import AppState
from service.train_requests import TrainedVersion, default_trainer, run_training
from service.worker import claim_request
from tests.service.factories import tiny_graph
from tests.service.predictors import load_linear, write_artifact


@pytest.fixture
def state(settings: Settings) -> Iterator[AppState]:
    app_state = AppState.build(settings, load_linear)
    yield app_state
    app_state.db.dispose()


class RecordingTrainer:
    """Writes a linear artifact per call; ``during`` runs while it trains."""

    def __init__(self, during: Any = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.out_dirs: list[Path] = []
        self.during = during
        self.lock = threading.Lock()

    def __call__(
        self, samples: Sequence[Sample], out_dir: Path, params: dict[str, Any]
    ) -> TrainedVersion:
        with self.lock:
            self.calls.append(params)
            self.out_dirs.append(out_dir)
            version = f"t{len(self.calls)}"
        if self.during is not None:
            self.during()
        return TrainedVersion(version, write_artifact(out_dir, version))


def _request(state: AppState) -> int:
    with state.db.session(write=True) as session:
        return predictor_crud.create_train_request(session, {"quick": True}).id


def _status(state: AppState, request_id: int) -> tuple[str, str | None]:
    with state.db.session() as session:
        row = predictor_crud.get_train_request(session, request_id)
        return row.status, row.version


def _versions(state: AppState) -> list[str]:
    with state.db.session() as session:
        return list(session.scalars(select(PredictorVersion.version)))


def test_api_training_leaves_a_request_the_worker_claimed(state: AppState) -> None:
    request_id = _request(state)
    assert claim_request(state) == (request_id, {"quick": True})
    trainer = RecordingTrainer()
    run_training(state, trainer, request_id, activate=True)
    assert trainer.calls == []
    assert _status(state, request_id) == ("running", None)  # still the worker's
    assert _versions(state) == []


def test_worker_cannot_claim_a_request_the_api_is_training(state: AppState) -> None:
    request_id = _request(state)
    seen: list[object] = []
    trainer = RecordingTrainer(during=lambda: seen.append(claim_request(state)))
    run_training(state, trainer, request_id, activate=False)
    assert seen == [None]  # the worker found nothing to claim while the API trained
    assert len(trainer.calls) == 1
    assert _status(state, request_id) == ("done", "t1")


def test_racing_claims_train_each_request_at_most_once(state: AppState) -> None:
    request_ids = [_request(state) for _ in range(3)]
    trainer = RecordingTrainer()
    worker_claims: list[int] = []
    barrier = threading.Barrier(2 * len(request_ids))

    def api(request_id: int) -> None:
        barrier.wait()
        run_training(state, trainer, request_id, activate=False)

    def worker() -> None:
        barrier.wait()
        claimed = claim_request(state)
        if claimed is not None:
            worker_claims.append(claimed[0])

    threads = [threading.Thread(target=api, args=(r,)) for r in request_ids]
    threads += [threading.Thread(target=worker) for _ in request_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    by_api = [int(p.name.split("-")[1]) for p in trainer.out_dirs]
    assert len(by_api) == len(set(by_api)) and len(worker_claims) == len(set(worker_claims))
    assert not set(by_api) & set(worker_claims)
    for r in request_ids:  # an API thread without the trainer lock leaves its request queued
        expected = "done" if r in by_api else "running" if r in worker_claims else "queued"
        assert _status(state, r)[0] == expected, (r, by_api, worker_claims)


def test_api_training_warm_starts_from_the_active_version(state: AppState, tmp_path: Path) -> None:
    active = write_artifact(tmp_path / "v0", "v0")
    with state.db.session(write=True) as session:
        predictor_crud.register(session, "v0", str(active), {})
        predictor_crud.activate(session, "v0")
        cold = predictor_crud.create_train_request(session, {"warm_start": False}).id
    warm = _request(state)
    trainer = RecordingTrainer()
    run_training(state, trainer, warm, activate=False)
    run_training(state, trainer, cold, activate=False)
    assert [c.get("init_from") for c in trainer.calls] == [str(active), None]


def test_default_trainer_falls_back_to_a_cold_start(tmp_path: Path) -> None:
    samples = [
        Sample(tiny_graph(channels=c), "dev1", latency_ms=0.5 + 0.1 * c) for c in range(2, 10)
    ]
    unusable = write_artifact(tmp_path / "linear", "v0")  # not an ensemble artifact
    trainer = default_trainer()
    assert trainer is not None
    params = {"quick": True, "min_device_samples": 4, "init_from": str(unusable)}
    trained = trainer(samples, tmp_path / "v1", params)
    assert (trained.artifact_path / "metadata.json").exists()
    assert trained.metrics["warm_start_from"] is None
