"""Devices routes: upsert by agents/admins, reads, scopes, validation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

DEVICE: dict[str, Any] = {
    "name": "dev1",
    "kind": "cpu",
    "runtime": "onnxruntime",
    "simulated": True,
    "hardware": {"cpu": "Xeon", "clock_mhz": 2400},
}


def test_agent_registers_then_updates_its_device(
    client: TestClient, agent: dict[str, str], client_auth: dict[str, str]
) -> None:
    r = client.post("/api/v1/devices", json=DEVICE, headers=agent)
    assert r.status_code == 201, r.text
    body = r.json()
    assert {k: body[k] for k in DEVICE} == DEVICE
    assert body["created_at"] and body["updated_at"]
    r = client.post("/api/v1/devices", json={**DEVICE, "runtime": "tflite"}, headers=agent)
    assert r.status_code == 200 and r.json()["runtime"] == "tflite"
    listed = client.get("/api/v1/devices", headers=client_auth).json()
    assert [d["name"] for d in listed] == ["dev1"]
    one = client.get("/api/v1/devices/dev1", headers=client_auth)
    assert one.status_code == 200 and one.json()["runtime"] == "tflite"


def test_agent_cannot_register_another_device(client: TestClient, agent: dict[str, str]) -> None:
    r = client.post("/api/v1/devices", json={**DEVICE, "name": "dev2"}, headers=agent)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert r.json()["error"]["field"] == "device"


def test_client_cannot_register(client: TestClient, client_auth: dict[str, str]) -> None:
    r = client.post("/api/v1/devices", json=DEVICE, headers=client_auth)
    assert r.status_code == 403


def test_admin_registers_any_device(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/devices", json={**DEVICE, "name": "phone-7"}, headers=admin)
    assert r.status_code == 201


def test_no_token_401(client: TestClient) -> None:
    r = client.get("/api/v1/devices")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/devices", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_unknown_device_404(client: TestClient, client_auth: dict[str, str]) -> None:
    r = client.get("/api/v1/devices/ghost", headers=client_auth)
    assert r.status_code == 404
    assert "ghost" in r.json()["error"]["message"]


def test_validation_errors_name_the_field(client: TestClient, admin: dict[str, str]) -> None:
    cases = [
        ({**DEVICE, "kind": "toaster"}, "kind"),
        ({**DEVICE, "name": "Bad Name!"}, "name"),
        ({**DEVICE, "simulated": "maybe"}, "simulated"),
        ({k: v for k, v in DEVICE.items() if k != "runtime"}, "runtime"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/devices", json=body, headers=admin)
        assert r.status_code == 422, body
        error = r.json()["error"]
        assert error["field"] == field and error["code"] == "validation_error"
        assert field in error["message"]


def test_malformed_json_422(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/devices",
        content=b'{"name": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "JSON" in r.json()["error"]["message"]


def test_client_is_refused_before_its_body_is_validated(
    client: TestClient, client_auth: dict[str, str]
) -> None:
    r = client.post("/api/v1/devices", json={"name": "", "kind": "toaster"}, headers=client_auth)
    assert r.status_code == 403, r.text
    assert "may read devices" in r.json()["error"]["message"]
