"""A minimal real HTTP server implementing the ``/api/v1`` routes the agent uses.

Used by the agent tests until (and besides) the real service: state lives outside the app, so a
server can be stopped and started again on the same port with the same data, like a restart
against a persistent database.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

MAX_ATTEMPTS = 3


@dataclass
class State:
    """What a database would hold."""

    token: str = "agent-token"
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0

    def add_job(self, device: str, model_id: str) -> int:
        job_id = len(self.jobs) + 1
        self.jobs[job_id] = {
            "id": job_id,
            "device": device,
            "model_id": model_id,
            "status": "queued",
            "attempts": 0,
            "priority": 0,
            "lease_expires_at": None,
            "reason": None,
        }
        return job_id


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": None}}, status)


def create_contract_app(state: State) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Any:
        if request.headers.get("authorization") != f"Bearer {state.token}":
            return _error(401, "unauthorized", "bad token")
        return await call_next(request)

    @app.post("/api/v1/devices")
    async def upsert_device(body: dict[str, Any]) -> JSONResponse:
        created = body["name"] not in state.devices
        state.devices[body["name"]] = body
        return JSONResponse(body, 201 if created else 200)

    @app.get("/api/v1/models/{model_id}/onnx")
    async def onnx(model_id: str) -> Response:
        if model_id not in state.models:
            return _error(404, "not_found", f"model {model_id}")
        return Response(state.models[model_id], media_type="application/octet-stream")

    @app.post("/api/v1/jobs/lease")
    async def lease(body: dict[str, Any]) -> dict[str, Any]:
        leased = []
        now = datetime.now(UTC)
        for job in state.jobs.values():
            expired = job["status"] == "leased" and job["lease_expires_at"] < now.isoformat()
            if job["device"] == body["device"] and (job["status"] == "queued" or expired):
                job["status"], job["attempts"] = "leased", job["attempts"] + 1
                seconds = body.get("lease_seconds", 120)
                job["lease_expires_at"] = (now + timedelta(seconds=seconds)).isoformat()
                leased.append(dict(job))
                if len(leased) >= body.get("max_jobs", 1):
                    break
        return {"jobs": leased}

    @app.get("/api/v1/jobs/{job_id}")
    async def get_job(job_id: int) -> Any:
        return state.jobs[job_id]

    @app.post("/api/v1/jobs/{job_id}/heartbeat")
    async def heartbeat(job_id: int) -> Any:
        job = state.jobs[job_id]
        if job["status"] != "leased":
            return _error(409, "lease_lost", f"job {job_id} is {job['status']}")
        state.heartbeats += 1
        return job

    def _store(body: dict[str, Any]) -> tuple[int, bool]:
        for i, m in enumerate(state.measurements):
            if m["idempotency_key"] == body["idempotency_key"]:
                return i + 1, True
        state.measurements.append(body)
        return len(state.measurements), False

    @app.post("/api/v1/jobs/{job_id}/complete")
    async def complete(job_id: int, body: dict[str, Any]) -> Any:
        job = state.jobs[job_id]
        measurement_id, duplicate = _store(body)
        if not duplicate and job["status"] != "leased":
            state.measurements.pop()
            return _error(409, "lease_lost", f"job {job_id} is {job['status']}")
        job["status"] = "done"
        return {"job": job, "measurement_id": measurement_id}

    @app.post("/api/v1/jobs/{job_id}/fail")
    async def fail(job_id: int, body: dict[str, Any]) -> Any:
        job = state.jobs[job_id]
        again = body.get("retryable", False) and job["attempts"] < MAX_ATTEMPTS
        job["status"], job["reason"] = ("queued" if again else "failed"), body["reason"]
        return job

    @app.post("/api/v1/measurements")
    async def measurement(body: dict[str, Any]) -> JSONResponse:
        measurement_id, duplicate = _store(body)
        return JSONResponse(
            {"id": measurement_id, "duplicate": duplicate}, 200 if duplicate else 201
        )

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """Runs the contract app with uvicorn in a thread; ``stop`` / ``start`` simulate a restart."""

    def __init__(self, state: State, port: int) -> None:
        self.state = state
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            create_contract_app(self.state), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("contract server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)
