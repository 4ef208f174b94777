"""Job routes: enqueue/dedup, lease, heartbeat, complete (idempotent), fail, scopes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.core.db import Database
from service.models import Job, utcnow
from tests.service.factories import make_device, make_model, measurement_body


@pytest.fixture
def model_ids(db: Database) -> list[str]:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        return [make_model(session).id for _ in range(3)]


def _enqueue(
    client: TestClient, auth: dict[str, str], ids: list[str], **extra: object
) -> list[dict[str, Any]]:
    body = {"device": "dev1", "model_ids": ids, **extra}
    r = client.post("/api/v1/jobs", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()["jobs"]


def test_enqueue_dedups_open_jobs(
    client: TestClient, client_auth: dict[str, str], model_ids: list[str]
) -> None:
    first = _enqueue(client, client_auth, model_ids[:2])
    again = _enqueue(client, client_auth, model_ids, priority=5)
    assert [j["id"] for j in again[:2]] == [j["id"] for j in first]
    assert all(j["status"] == "queued" and j["priority"] == 5 for j in again)
    listed = client.get("/api/v1/jobs?device=dev1&status=queued", headers=client_auth).json()
    assert len(listed["jobs"]) == 3


def test_enqueue_unknown_model_or_device(
    client: TestClient, client_auth: dict[str, str], model_ids: list[str]
) -> None:
    ghost = "cd" * 32
    r = client.post(
        "/api/v1/jobs", json={"device": "dev1", "model_ids": [ghost]}, headers=client_auth
    )
    assert r.status_code == 404 and ghost in r.json()["error"]["message"]
    r = client.post(
        "/api/v1/jobs", json={"device": "nope", "model_ids": model_ids}, headers=client_auth
    )
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    r = client.post(
        "/api/v1/jobs", json={"device": "dev1", "model_ids": ["xyz"]}, headers=client_auth
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "model_ids.0"


def test_lease_complete_roundtrip(
    client: TestClient, client_auth: dict[str, str], agent: dict[str, str], model_ids: list[str]
) -> None:
    _enqueue(client, client_auth, model_ids[:1])
    _enqueue(client, client_auth, model_ids[1:2], priority=9)
    r = client.post("/api/v1/jobs/lease", json={"device": "dev1", "max_jobs": 1}, headers=agent)
    assert r.status_code == 200, r.text
    (job,) = r.json()["jobs"]
    assert job["model_id"] == model_ids[1]  # highest priority first
    assert job["status"] == "leased" and job["attempts"] == 1 and job["lease_expires_at"]
    hb = client.post(f"/api/v1/jobs/{job['id']}/heartbeat", json={}, headers=agent)
    assert hb.status_code == 200 and hb.json()["lease_expires_at"] >= job["lease_expires_at"]
    body = measurement_body(model_ids[1], key="job-key-1")
    done = client.post(f"/api/v1/jobs/{job['id']}/complete", json=body, headers=agent)
    assert done.status_code == 200, done.text
    assert done.json()["job"]["status"] == "done"
    retry = client.post(f"/api/v1/jobs/{job['id']}/complete", json=body, headers=agent)
    assert retry.status_code == 200
    assert retry.json()["measurement_id"] == done.json()["measurement_id"]
    polled = client.get(f"/api/v1/jobs/{job['id']}", headers=client_auth).json()
    assert polled["status"] == "done"
    assert polled["measurement"]["latency_ms"]["median"] == body["latency_ms"]["median"]
    listed = client.get(f"/api/v1/measurements?model_id={model_ids[1]}", headers=client_auth)
    assert len(listed.json()) == 1
    lost = client.post(f"/api/v1/jobs/{job['id']}/heartbeat", json={}, headers=agent)
    assert lost.status_code == 409


def test_complete_must_match_job(
    client: TestClient, client_auth: dict[str, str], agent: dict[str, str], model_ids: list[str]
) -> None:
    _enqueue(client, client_auth, model_ids[:1])
    (job,) = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=agent).json()[
        "jobs"
    ]
    wrong = measurement_body(model_ids[2])
    r = client.post(f"/api/v1/jobs/{job['id']}/complete", json=wrong, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["field"] == "model_id"


def test_empty_queue_leases_nothing(
    client: TestClient, agent: dict[str, str], model_ids: list[str]
) -> None:
    r = client.post("/api/v1/jobs/lease", json={"device": "dev1", "max_jobs": 64}, headers=agent)
    assert r.status_code == 200 and r.json() == {"jobs": []}
    r = client.post("/api/v1/jobs/lease", json={"device": "dev1", "max_jobs": 65}, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["field"] == "max_jobs"


def test_fail_retryable_then_final(
    client: TestClient, client_auth: dict[str, str], agent: dict[str, str], model_ids: list[str]
) -> None:
    _enqueue(client, client_auth, model_ids[:1])
    lease = {"device": "dev1"}
    (job,) = client.post("/api/v1/jobs/lease", json=lease, headers=agent).json()["jobs"]
    r = client.post(
        f"/api/v1/jobs/{job['id']}/fail", json={"reason": "busy", "retryable": True}, headers=agent
    )
    assert r.status_code == 200 and r.json()["status"] == "queued"
    (job,) = client.post("/api/v1/jobs/lease", json=lease, headers=agent).json()["jobs"]
    assert job["attempts"] == 2
    r = client.post(
        f"/api/v1/jobs/{job['id']}/fail", json={"reason": "unsupported op Foo"}, headers=agent
    )
    assert r.status_code == 200
    assert r.json()["status"] == "failed" and r.json()["reason"] == "unsupported op Foo"
    again = client.post(f"/api/v1/jobs/{job['id']}/fail", json={"reason": "x"}, headers=agent)
    assert again.status_code == 409


def test_agent_cannot_touch_other_devices_jobs(
    client: TestClient,
    client_auth: dict[str, str],
    agent: dict[str, str],
    other_agent: dict[str, str],
    model_ids: list[str],
) -> None:
    _enqueue(client, client_auth, model_ids[:1])
    r = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=other_agent)
    assert r.status_code == 403
    (job,) = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=agent).json()[
        "jobs"
    ]
    base = f"/api/v1/jobs/{job['id']}"
    body = measurement_body(model_ids[0])
    assert client.post(f"{base}/heartbeat", json={}, headers=other_agent).status_code == 403
    assert client.post(f"{base}/complete", json=body, headers=other_agent).status_code == 403
    fail = {"reason": "x"}
    assert client.post(f"{base}/fail", json=fail, headers=other_agent).status_code == 403
    lease = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=client_auth)
    assert lease.status_code == 403
    enqueue = {"device": "dev1", "model_ids": model_ids}
    assert client.post("/api/v1/jobs", json=enqueue, headers=agent).status_code == 403


def _expire(db: Database, job_id: int) -> None:
    with db.session(write=True) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=5))
        )


def test_expired_lease_requeued_then_fails_after_max_attempts(
    client: TestClient,
    db: Database,
    client_auth: dict[str, str],
    agent: dict[str, str],
    model_ids: list[str],
) -> None:
    (queued,) = _enqueue(client, client_auth, model_ids[:1])
    assert queued["max_attempts"] == 3
    for attempt in (1, 2, 3):
        (job,) = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=agent).json()[
            "jobs"
        ]
        assert job["id"] == queued["id"] and job["attempts"] == attempt
        _expire(db, job["id"])
    assert client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=agent).json() == {
        "jobs": []
    }
    final = client.get(f"/api/v1/jobs/{queued['id']}", headers=client_auth).json()
    assert final["status"] == "failed" and final["reason"] == "lease expired 3 times"
    hb = client.post(f"/api/v1/jobs/{queued['id']}/heartbeat", json={}, headers=agent)
    assert hb.status_code == 409 and hb.json()["error"]["code"] == "lease_lost"
