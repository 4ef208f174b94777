"""Every route of the OpenAPI schema with every kind of caller: none, admin, client, agent and an
agent bound to another device. The table below is the intended policy; a new route must be added
to it (the walk fails on a route it does not know)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.db import Database
from tests.service.factories import make_device, make_job, make_model, measurement_body

ALL = frozenset({"admin", "client", "agent"})
CLIENTS = frozenset({"admin", "client"})
AGENTS = frozenset({"admin", "agent"})
ADMIN = frozenset({"admin"})
PUBLIC: frozenset[str] = frozenset()  # no token needed

POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("POST", "/api/v1/devices"): AGENTS,
    ("GET", "/api/v1/devices"): ALL,
    ("GET", "/api/v1/devices/{name}"): ALL,
    ("POST", "/api/v1/jobs"): CLIENTS,
    ("GET", "/api/v1/jobs"): ALL,
    ("GET", "/api/v1/jobs/{job_id}"): ALL,
    ("POST", "/api/v1/jobs/lease"): AGENTS,
    ("POST", "/api/v1/jobs/{job_id}/heartbeat"): AGENTS,
    ("POST", "/api/v1/jobs/{job_id}/complete"): AGENTS,
    ("POST", "/api/v1/jobs/{job_id}/fail"): AGENTS,
    ("POST", "/api/v1/measurements"): AGENTS,
    ("GET", "/api/v1/measurements"): CLIENTS,
    ("POST", "/api/v1/models"): CLIENTS,
    ("GET", "/api/v1/models/{model_id}"): ALL,
    ("GET", "/api/v1/models/{model_id}/onnx"): ALL,
    ("POST", "/api/v1/predictions"): CLIENTS,
    ("POST", "/api/v1/predictions/generation"): CLIENTS,
    ("GET", "/api/v1/predictors"): CLIENTS,
    ("POST", "/api/v1/predictors/train"): ADMIN,
    ("GET", "/api/v1/predictors/train/{request_id}"): CLIENTS,
    ("POST", "/api/v1/predictors/{version}/activate"): ADMIN,
    ("GET", "/api/v1/error-report"): CLIENTS,
}

# Routes acting on device dev1 (path, query or body): an agent bound to dev2 gets 403.
DEVICE_BOUND = {
    ("POST", "/api/v1/devices"),
    ("GET", "/api/v1/devices/{name}"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{job_id}"),
    ("POST", "/api/v1/jobs/lease"),
    ("POST", "/api/v1/jobs/{job_id}/heartbeat"),
    ("POST", "/api/v1/jobs/{job_id}/complete"),
    ("POST", "/api/v1/jobs/{job_id}/fail"),
    ("POST", "/api/v1/measurements"),
}


class _NoTraining(Exception):
    pass


@pytest.fixture
def trainer() -> Callable[..., Any]:
    """Training requests fail at once (this test is about who may ask, not about training)."""

    def refuse(*_args: Any) -> Any:
        raise _NoTraining("training disabled in the scope walk")

    return refuse


def _wait_for_training(client: TestClient, headers: dict[str, str]) -> None:
    """Let background training threads finish before the database is dropped."""
    for _ in range(200):
        rows = [client.get(f"/api/v1/predictors/train/{i}", headers=headers) for i in (1, 2)]
        if all(r.status_code == 404 or r.json()["status"] == "failed" for r in rows):
            return
        time.sleep(0.05)
    raise AssertionError("training requests still running")


@pytest.fixture
def world(db: Database) -> dict[str, Any]:
    """Devices dev1/dev2, a model and a leased job on dev1."""
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        model = make_model(session)
        job = make_job(session, model.id, "dev1", status="leased")
        return {"model_id": model.id, "job_id": job.id}


def _request(world: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    url = (
        path.replace("{name}", "dev1")
        .replace("{job_id}", str(world["job_id"]))
        .replace("{model_id}", world["model_id"])
        .replace("{request_id}", "1")
        .replace("{version}", "no-such-version")
    )
    bodies: dict[str, Any] = {
        "/api/v1/devices": {"name": "dev1", "kind": "cpu", "runtime": "onnxruntime"},
        "/api/v1/jobs/lease": {"device": "dev1"},
        "/api/v1/jobs/{job_id}/heartbeat": {},
        "/api/v1/jobs/{job_id}/complete": measurement_body(world["model_id"], "dev1"),
        "/api/v1/jobs/{job_id}/fail": {"reason": "scope walk"},
        "/api/v1/measurements": measurement_body(world["model_id"], "dev1"),
    }
    request: dict[str, Any] = {"method": method, "url": url, "params": {"device": "dev1"}}
    if method == "POST":
        request["json"] = bodies.get(path, {})
    return request


def test_every_route_enforces_its_scopes(
    client: TestClient,
    world: dict[str, Any],
    admin: dict[str, str],
    client_auth: dict[str, str],
    agent: dict[str, str],
    other_agent: dict[str, str],
) -> None:
    callers = {"admin": admin, "client": client_auth, "agent": agent, "other-agent": other_agent}
    schema = client.get("/openapi.json").json()
    walked = set()
    for path, operations in schema["paths"].items():
        for method in operations:
            key = (method.upper(), path)
            assert key in POLICY, f"{key} has no entry in the scope policy of this test"
            walked.add(key)
            allowed = POLICY[key]
            request = _request(world, *key)
            anonymous = client.request(**request)
            if allowed:
                assert anonymous.status_code == 401, (key, anonymous.text)
                assert anonymous.headers["WWW-Authenticate"] == "Bearer"
            for name, headers in callers.items():
                status = client.request(**request, headers=headers).status_code
                scope = "agent" if name == "other-agent" else name
                if not allowed:
                    continue
                foreign = name == "other-agent" and key in DEVICE_BOUND
                if scope not in allowed or foreign:
                    assert status == 403, (key, name, status)
                else:
                    assert status not in (401, 403) and status < 500, (key, name, status)
    assert walked == set(POLICY)
    _wait_for_training(client, admin)


def test_a_bad_token_is_401_on_every_protected_route(
    client: TestClient, world: dict[str, Any]
) -> None:
    for (method, path), allowed in POLICY.items():
        if not allowed:
            continue
        for header in ("Bearer plt_forged", "Basic dXNlcjpwYXNz", "Bearer "):
            response = client.request(
                **_request(world, method, path), headers={"Authorization": header}
            )
            assert response.status_code == 401, (method, path, header)
