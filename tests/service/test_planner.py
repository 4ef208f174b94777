from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from predictor.api import Sample, load_predictor, train_predictor
from predictor.spaces.registry import get_space
from service.core.config import Settings
from service.crud import models as model_crud
from service.crud import predictors as predictor_crud
from service.models import Job, Model
from service.planner import PlannerConfig, doubtful, plan
from service.state import AppState
from tests.predictor.conftest import tiny_graph
from tests.service.factories import make_device, make_measurement


def test_doubtful_keeps_the_wide_ones_or_everything() -> None:
    assert doubtful([0.1, 2.0, 0.3, 1.5], 1.0) == [1, 3]
    assert doubtful([0.1, 0.2], 1.0) == [0, 1]  # nothing doubtful: every candidate stays
    assert doubtful([0.1, 2.0], 0.0) == [0, 1]  # threshold 0 turns the filter off


@pytest.fixture
def state(settings: Settings, tmp_path: Path) -> Iterator[AppState]:
    roomy = settings.model_copy(update={"max_model_bytes": 64 * 2**20})  # kws exports
    app_state = AppState.build(roomy, load_predictor)  # the db fixture's db is migrated
    samples = [
        Sample(tiny_graph(c, k, r), dev, latency_ms=scale * (1.0 + c * k))
        for c in (4, 8)
        for k in (1, 3)
        for r in (False, True)
        for dev, scale in (("cpu_a", 1.0), ("gpu_b", 0.3))
    ]
    path = train_predictor(samples, tmp_path / "v1", version="v1", quick=True, min_device_samples=4)
    with app_state.db.session(write=True) as session:
        predictor_crud.register(session, "v1", str(path), {})
        predictor_crud.activate(session, "v1")
    yield app_state
    app_state.db.dispose()


def test_planner_sends_only_the_unknown_family_of_a_mixed_pool(state: AppState) -> None:
    """dev1 measured keyword-spotting CNNs; the pool mixes more of them with GRU networks."""
    kws = get_space("kws")
    rng = random.Random(5)
    with state.db.session(write=True) as session:
        make_device(session, "dev1")
        for i in range(8):
            spec = kws.sample(rng)
            graph = kws.to_ir(spec)
            model_id = hashlib.sha256(f"kws-{i}".encode()).hexdigest()
            session.add(model_crud.new_row(model_id, 1000, graph, space="kws", spec=spec))
            session.flush()
            make_measurement(session, model_id, latency_ms=0.05 + graph.macs / 2e7)
    config = PlannerConfig(spaces=("kws", "rnn"), min_queue=1, batch=8, pool_per_space=6)
    queued = plan(state, config, random.Random(0))["dev1"]
    with state.db.session() as session:
        jobs = session.scalars(select(Job)).all()
        spaces = {m.id: m.space for m in session.scalars(select(Model))}
    assert queued == len(jobs) and 1 <= queued < 8  # not the whole pool
    assert {spaces[j.model_id] for j in jobs} == {"rnn"}, json.dumps(
        sorted(spaces[j.model_id] or "" for j in jobs)
    )
