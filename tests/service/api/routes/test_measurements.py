"""Measurement upload (idempotent) and listing (newest first, paginated)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.core.db import Database
from tests.service.factories import make_device, make_model, measurement_body


@pytest.fixture
def model_id(db: Database) -> str:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        return make_model(session).id


def test_upload_is_idempotent(
    client: TestClient, agent: dict[str, str], client_auth: dict[str, str], model_id: str
) -> None:
    body = measurement_body(model_id, key="k-1")
    first = client.post("/api/v1/measurements", json=body, headers=agent)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    again = client.post("/api/v1/measurements", json=body, headers=agent)
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    rows = client.get("/api/v1/measurements?device=dev1", headers=client_auth).json()
    assert len(rows) == 1
    row = rows[0]
    assert row["latency_ms"] == body["latency_ms"]
    assert row["environment"] == body["environment"]
    assert row["peak_memory_bytes"] == 12345 and row["measurement_kind"] == "simulated"
    device = client.get("/api/v1/devices/dev1", headers=client_auth).json()
    assert device["last_seen_at"] is not None


def test_listing_newest_first_and_paginated(
    client: TestClient, agent: dict[str, str], client_auth: dict[str, str], model_id: str
) -> None:
    ids = [
        client.post(
            "/api/v1/measurements",
            json=measurement_body(model_id, latency_ms=i + 1.0),
            headers=agent,
        ).json()["id"]
        for i in range(5)
    ]
    page = client.get("/api/v1/measurements?limit=2&offset=1", headers=client_auth).json()
    assert [m["id"] for m in page] == [ids[3], ids[2]]
    by_model = client.get(f"/api/v1/measurements?model_id={model_id}", headers=client_auth)
    assert len(by_model.json()) == 5
    r = client.get("/api/v1/measurements?limit=1001", headers=client_auth)
    assert r.status_code == 422 and r.json()["error"]["field"] == "limit"
    r = client.get("/api/v1/measurements?limit=abc", headers=client_auth)
    assert r.status_code == 422
    assert client.get("/api/v1/measurements", headers=agent).status_code == 403


def test_upload_errors(
    client: TestClient,
    agent: dict[str, str],
    other_agent: dict[str, str],
    admin: dict[str, str],
    model_id: str,
) -> None:
    ghost = "aa" * 32
    r = client.post("/api/v1/measurements", json=measurement_body(ghost), headers=agent)
    assert r.status_code == 404 and ghost in r.json()["error"]["message"]
    r = client.post("/api/v1/measurements", json=measurement_body(model_id), headers=other_agent)
    assert r.status_code == 403
    r = client.post("/api/v1/measurements", json=measurement_body(model_id, "dev9"), headers=admin)
    assert r.status_code == 404 and "dev9" in r.json()["error"]["message"]
    empty = {**measurement_body(model_id), "latency_ms": None, "peak_memory_bytes": None}
    r = client.post("/api/v1/measurements", json=empty, headers=agent)
    assert r.status_code == 422 and "latency_ms" in r.json()["error"]["message"]
    bad = measurement_body(model_id)
    bad["latency_ms"]["median"] = "fast"
    r = client.post("/api/v1/measurements", json=bad, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["field"] == "latency_ms.median"
    long_key = measurement_body(model_id, key="k" * 129)
    r = client.post("/api/v1/measurements", json=long_key, headers=agent)
    assert r.status_code == 422 and r.json()["error"]["field"] == "idempotency_key"
