"""Bad input anywhere gives a 4xx with the error envelope, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ROUTES = [
    "/api/v1/devices",
    "/api/v1/predictions",
    "/api/v1/jobs",
    "/api/v1/jobs/lease",
    "/api/v1/jobs/1/heartbeat",
    "/api/v1/jobs/1/complete",
    "/api/v1/jobs/1/fail",
    "/api/v1/measurements",
    "/api/v1/predictors/train",
    "/api/v1/predictors/x/activate",
]
BODIES: list[Any] = [
    [],
    "text",
    None,
    12,
    {"device": 5},
    {"device": "dev1", "model_ids": "abc"},
    {"device": "dev1", "model_ids": [], "specs": []},
    {"device": "x" * 10_000},
    {"device": "dev1", "max_jobs": 10**30},
    {"reason": None, "retryable": "sometimes"},
    {"name": "dev1", "kind": "cpu", "runtime": "r", "hardware": [1, 2]},
]


def test_no_500_for_garbage(client: TestClient, admin: dict[str, str]) -> None:
    for route in ROUTES:
        for body in BODIES:
            r = client.post(route, json=body, headers=admin)
            assert 400 <= r.status_code < 500, (route, body, r.status_code, r.text)
            error = r.json()["error"]
            assert error["code"] and error["message"], (route, body)
        r = client.post(
            route, content=b"\xff\xfe{", headers={**admin, "Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (route, r.text)


def test_booleans_are_not_coerced(client: TestClient, admin: dict[str, str]) -> None:
    """Found by schemathesis: 0/1 were accepted where the schema says boolean."""
    device = {"name": "dev1", "kind": "cpu", "runtime": "r"}
    for route, body, field in (
        ("/api/v1/devices", {**device, "simulated": 0}, "simulated"),
        ("/api/v1/jobs/1/fail", {"reason": "x", "retryable": 1}, "retryable"),
        ("/api/v1/predictors/train", {"quick": 0}, "quick"),
        ("/api/v1/predictors/train", {"activate": "yes"}, "activate"),
    ):
        r = client.post(route, json=body, headers=admin)
        assert r.status_code == 422, (route, body, r.text)
        assert r.json()["error"]["field"] == field


def test_bad_path_and_query_values(client: TestClient, admin: dict[str, str]) -> None:
    for path in (
        "/api/v1/jobs/abc",
        "/api/v1/jobs/99999999999999999999999",
        "/api/v1/jobs?status=sleeping",
        "/api/v1/jobs?limit=-1",
        "/api/v1/measurements?offset=-5",
        "/api/v1/measurements?offset=99999999999999999999999",
        "/api/v1/jobs?offset=99999999999999999999",
        "/api/v1/error-report?since=2026-13-45",
        "/api/v1/models/..%2F..%2Fetc%2Fpasswd/onnx",
        "/api/v1/nothing-here",
    ):
        r = client.get(path, headers=admin)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert r.json()["error"]["message"], path
