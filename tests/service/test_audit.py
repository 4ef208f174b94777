"""Audit sampling and pairing by network: draws, deduplication, low-priority jobs, the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.audit import AUDIT_PRIORITY, AuditSampler
from service.caches import PredictorLoader
from service.core.config import Settings
from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.models import Job, Model, PredictionLog
from tests.service.factories import make_device, make_measurement
from tests.service.predictors import load_linear, write_artifact

SPEC = {
    "space": "nasbench201",
    "arch": "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
    "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
}


def test_sampler_rates_dedup_and_exclusions() -> None:
    sampler = AuditSampler(0.0, {"dev2": 1.0}, seed=1)
    assert sampler.draw("dev1", ["a", "b"]) == []
    assert sampler.draw("dev2", ["a", "b", None, "c"], exclude={1}) == [0, 3]
    assert sampler.draw("dev2", ["a", "c", "d"]) == [2]  # a and c were drawn on dev2 before


def test_sampler_draws_about_the_rate() -> None:
    sampler = AuditSampler(0.1, seed=7)
    drawn = sampler.draw("dev1", [f"fp{i}" for i in range(20_000)])
    assert 1_800 <= len(drawn) <= 2_200


def test_rates_must_be_shares() -> None:
    with pytest.raises(ValueError, match=r"audit rates must lie in 0\.\.1"):
        Settings(audit_rate_per_device={"dev1": 2.0})


@pytest.fixture
def predictor_loader() -> PredictorLoader:
    return load_linear


@pytest.fixture
def audited(client: TestClient, db: Database, tmp_path: Path) -> None:
    """dev1 with an active test predictor; every prediction on dev1 is audited."""
    client.app.state.perfloop.audit_sampler.per_device["dev1"] = 1.0  # type: ignore[attr-defined]
    artifact = write_artifact(tmp_path / "v1", "v1", 0.01)
    with db.session(write=True) as session:
        make_device(session, "dev1")
        predictor_crud.register(session, "v1", str(artifact), {})
        predictor_crud.activate(session, "v1")


def _predict_spec(client: TestClient, auth: dict[str, str], **extra: object) -> None:
    body = {"device": "dev1", "specs": [SPEC], **extra}
    r = client.post("/api/v1/predictions", json=body, headers=auth)
    assert r.status_code == 200, r.text


def test_audited_spec_is_measured_and_paired(
    client: TestClient, db: Database, client_auth: dict[str, str], audited: None
) -> None:
    _predict_spec(client, client_auth)
    _predict_spec(client, client_auth)  # the same network again: not queued twice
    client.app.state.perfloop.audit_queue.join()  # type: ignore[attr-defined]
    with db.session() as session:
        jobs = session.scalars(select(Job)).all()
        logged = session.scalars(select(PredictionLog).order_by(PredictionLog.id)).all()
        model = session.get(Model, jobs[0].model_id)
    assert len(jobs) == 1 and jobs[0].priority == AUDIT_PRIORITY
    assert model is not None and model.spec == SPEC["arch"]
    assert [r.check_kind for r in logged] == ["audit", None]
    assert {r.model_id for r in logged} == {None}
    assert {r.fingerprint for r in logged} == {model.fingerprint}
    with db.session(write=True) as session:
        make_measurement(session, model.id, latency_ms=2.0)
    rows = client.get("/api/v1/error-report", headers=client_auth).json()["rows"]
    (latency,) = [r for r in rows if r["metric"] == "latency_ms"]
    assert latency["count"] == 2  # both spec predictions pair with the exported model's run
    assert latency["audited_count"] == 1 and latency["doubt_count"] == 0
    assert latency["audited_mape"] == pytest.approx(latency["mape"])
    assert latency["audited_mape_ci95_lo"] is None  # one audited pair: no interval


def test_doubtful_spec_is_not_also_audited(
    client: TestClient, db: Database, client_auth: dict[str, str], audited: None
) -> None:
    _predict_spec(client, client_auth, on_uncertain="measure", uncertainty_threshold=1e-9)
    client.app.state.perfloop.audit_queue.join()  # type: ignore[attr-defined]
    with db.session() as session:
        (job,) = session.scalars(select(Job)).all()
        (logged,) = session.scalars(select(PredictionLog)).all()
    assert job.priority == 0 and logged.check_kind == "doubt"
    with db.session(write=True) as session:
        make_measurement(session, job.model_id, latency_ms=2.0)
    rows = client.get("/api/v1/error-report", headers=client_auth).json()["rows"]
    assert [(r["doubt_count"], r["audited_count"]) for r in rows] == [(1, 0)]
