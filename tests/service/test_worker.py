from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.core.config import Settings
from service.core.locks import exclusive
from service.crud import predictors as predictor_crud
from service.models import Job, Model, TrainRequest
from service.onboarding import REFERENCE_PRIORITY, onboard
from service.planner import PLANNED_PRIORITY, PlannerConfig, plan
from service.state import AppState
from service.worker import INTERRUPTED, Worker, WorkerConfig, claim_request, recover_interrupted
from tests.service.factories import make_device, make_measurement, make_model
from tests.service.predictors import load_linear, write_artifact


@pytest.fixture
def state(settings: Settings) -> Iterator[AppState]:
    roomy = settings.model_copy(update={"max_model_bytes": 64 * 2**20})  # reference models
    app_state = AppState.build(roomy, load_linear)  # the db fixture's database is migrated
    yield app_state
    app_state.db.dispose()


def test_claim_request_takes_each_queued_request_once(state: AppState) -> None:
    with state.db.session(write=True) as session:
        first = predictor_crud.create_train_request(session, {"quick": True}).id
        second = predictor_crud.create_train_request(session, {}).id
    assert claim_request(state) == (first, {"quick": True})
    assert claim_request(state) == (second, {})
    assert claim_request(state) is None
    with state.db.session() as session:
        statuses = set(session.scalars(select(TrainRequest.status)))
    assert statuses == {"running"}


def test_onboarding_queues_references_once(state: AppState) -> None:
    with state.db.session(write=True) as session:
        make_device(session, "new")
        make_device(session, "old")
        make_measurement(session, make_model(session).id, device="old")
    assert onboard(state, ("kws",)) == {"new": 3}
    assert onboard(state, ("kws",)) == {}
    with state.db.session() as session:
        jobs = session.scalars(select(Job)).all()
        spaces = {m.space for m in session.scalars(select(Model).where(Model.space.is_not(None)))}
    assert {j.device for j in jobs} == {"new"}
    assert {j.priority for j in jobs} == {REFERENCE_PRIORITY}
    assert spaces == {"kws"}


def test_planner_tops_up_queues_with_new_specs(state: AppState, tmp_path: Path) -> None:
    with state.db.session(write=True) as session:
        make_device(session, "dev1")
        artifact = write_artifact(tmp_path / "linear", "v1")
        predictor_crud.register(session, "v1", str(artifact), {})
        predictor_crud.activate(session, "v1")
    config = PlannerConfig(spaces=("kws",), min_queue=2, batch=2, pool_per_space=5)
    assert plan(state, config, random.Random(0)) == {"dev1": 2}
    assert plan(state, config, random.Random(0)) == {}  # queue is full enough
    with state.db.session() as session:
        jobs = session.scalars(select(Job)).all()
        models = {m.id: m for m in session.scalars(select(Model))}
    assert len(jobs) == 2 and {j.priority for j in jobs} == {PLANNED_PRIORITY}
    assert {models[j.model_id].space for j in jobs} == {"kws"}

    assert models[jobs[0].model_id].spec != models[jobs[1].model_id].spec


def test_worker_does_not_train_before_a_device_has_enough_rows(state: AppState) -> None:
    with state.db.session(write=True) as session:
        make_device(session, "dev1")
        for _ in range(5):
            make_measurement(session, make_model(session).id)
    worker = Worker(state, WorkerConfig(plan=False, onboard_spaces=("kws",)))
    assert not worker.due()
    report = worker.step()
    assert report.trained is None


def test_a_request_left_running_by_a_dead_trainer_is_requeued_once(state: AppState) -> None:
    with state.db.session(write=True) as session:
        request_id = predictor_crud.create_train_request(session, {"quick": True}).id
    for _ in range(2):  # claimed, then the trainer is killed mid-round
        assert claim_request(state) == (request_id, {"quick": True})
        assert recover_interrupted(state) == 1
        with state.db.session() as session:
            row = predictor_crud.get_train_request(session, request_id)
            status, error, finished = row.status, row.error, row.finished_at
        assert error is not None and error.startswith(INTERRUPTED)
    assert status == "failed" and "not retried" in str(error) and finished is not None
    assert recover_interrupted(state) == 0


def test_a_worker_step_recovers_only_while_holding_the_trainer_lock(state: AppState) -> None:
    with state.db.session(write=True) as session:
        request_id = predictor_crud.create_train_request(session, {}).id
    assert claim_request(state) is not None
    worker = Worker(state, WorkerConfig(plan=False, onboard_spaces=()))
    with exclusive(state.db.engine, "trainer"):  # a live trainer holds it: not an orphan
        worker.step()
        with state.db.session() as session:
            assert predictor_crud.get_train_request(session, request_id).status == "running"
    report = worker.step()  # lock free: requeued, claimed again (no samples: the round fails)
    with state.db.session() as session:
        row = predictor_crud.get_train_request(session, request_id)
    assert report.trained is None and row.status == "failed" and "samples" in str(row.error)


def test_planner_uncertain_rule_without_predictor_uses_distance(state: AppState) -> None:
    with state.db.session(write=True) as session:
        make_device(session, "dev1")
    config = PlannerConfig(
        spaces=("kws",), min_queue=1, batch=3, pool_per_space=6, strategy="uncertain"
    )
    assert plan(state, config, random.Random(1)) == {"dev1": 3}
    with state.db.session() as session:
        assert len({j.model_id for j in session.scalars(select(Job))}) == 3
