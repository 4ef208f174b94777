"""Training through the API with the real predictor (quick settings), then serving it."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.state import AppState
from tests.service.factories import make_device, make_measurement, make_model


def _wait(client: TestClient, request_id: int, auth: dict[str, str]) -> dict[str, object]:
    state: AppState = client.app.state.perfloop  # type: ignore[attr-defined]
    for thread in state.training_threads:
        thread.join(timeout=300)
    r = client.get(f"/api/v1/predictors/train/{request_id}", headers=auth)
    assert r.status_code == 200
    body: dict[str, object] = r.json()
    return body


def test_train_activate_and_serve(
    client: TestClient, db: Database, admin: dict[str, str], client_auth: dict[str, str]
) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        models = [make_model(session, channels=c) for c in range(2, 26)]
        for m in models:
            make_measurement(session, m.id, latency_ms=0.5 + m.macs / 1e5)
        ids = [m.id for m in models[:5]]
    started = time.monotonic()
    r = client.post(
        "/api/v1/predictors/train",
        json={"quick": True, "activate": True, "min_device_samples": 5, "version": "t1"},
        headers=admin,
    )
    assert r.status_code == 202, r.text
    done = _wait(client, r.json()["id"], admin)
    assert done["status"] == "done", done
    assert done["version"] == "t1"
    assert time.monotonic() - started < 600
    versions = client.get("/api/v1/predictors", headers=client_auth).json()
    assert [(v["version"], v["status"]) for v in versions] == [("t1", "active")]
    assert versions[0]["metrics"]["samples"] == 24
    pred = client.post(
        "/api/v1/predictions", json={"device": "dev1", "model_ids": ids}, headers=client_auth
    )
    assert pred.status_code == 200, pred.text
    body = pred.json()
    assert body["predictor_version"] == "t1"
    means = [p["metrics"]["latency_ms"]["mean"] for p in body["predictions"]]
    assert all(m > 0 for m in means)


def test_training_failure_is_recorded(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/predictors/train", json={"quick": True}, headers=admin)
    assert r.status_code == 202
    done = _wait(client, r.json()["id"], admin)
    assert done["status"] == "failed" and done["error"]
    assert client.get("/api/v1/predictors", headers=admin).json() == []


def test_train_needs_admin_and_valid_body(
    client: TestClient, client_auth: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.post("/api/v1/predictors/train", json={}, headers=client_auth).status_code == 403
    r = client.post("/api/v1/predictors/train", json={"quick": "very"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["field"] == "quick"
    r = client.post("/api/v1/predictors/train", json={"epochs": 3}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["field"] == "epochs"
    assert client.get("/api/v1/predictors/train/999", headers=admin).status_code == 404


def test_artifact_paths_are_shown_to_admins_only(
    client: TestClient, db: Database, admin: dict[str, str], client_auth: dict[str, str]
) -> None:
    with db.session(write=True) as session:
        predictor_crud.register(session, "v1", "/srv/perfloop/predictors/v1", {})
    as_client = client.get("/api/v1/predictors", headers=client_auth).json()
    assert [(v["version"], v["artifact_path"]) for v in as_client] == [("v1", None)]
    as_admin = client.get("/api/v1/predictors", headers=admin).json()
    assert [v["artifact_path"] for v in as_admin] == ["/srv/perfloop/predictors/v1"]
