"""An in-memory implementation of the ``/api/v1`` routes the agent uses, as an httpx transport.

Only for ``perfloop bench agent``: it lets the benchmark run the real agent loop (lease, download,
heartbeat, spool, complete) without a server process, so the figure is the agent's own overhead.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import httpx


class InMemoryService:
    """Queued jobs and stored measurements of one benchmark run."""

    def __init__(self) -> None:
        self.models: dict[str, bytes] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.measurements: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def enqueue(self, device: str, onnx_bytes: bytes) -> int:
        """Store a model and queue a job for it; return the job id."""
        model_id = hashlib.sha256(onnx_bytes).hexdigest()
        self.models[model_id] = onnx_bytes
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

    def transport(self) -> httpx.MockTransport:
        """The transport to give :class:`~device_agents.client.AgentClient`."""
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            path = request.url.path.removeprefix("/api/v1")
            body = json.loads(request.content) if request.content else {}
            parts = path.strip("/").split("/")
            if parts[0] == "devices":
                return httpx.Response(201, json={**body, "created_at": None, "updated_at": None})
            if parts[0] == "models":
                return httpx.Response(200, content=self.models[parts[1]])
            if parts[0] == "measurements":
                return self._store(body)
            if parts[:2] == ["jobs", "lease"]:
                return self._lease(body)
            job = self.jobs[int(parts[1])]
            if parts[2] == "complete":
                job["status"] = "done"
                stored = self._store(body)
                return httpx.Response(200, json={"job": job, "measurement_id": stored.json()["id"]})
            if parts[2] == "fail":
                job["status"], job["reason"] = "failed", body.get("reason")
            return httpx.Response(200, json=job)

    def _lease(self, body: dict[str, Any]) -> httpx.Response:
        for job in self.jobs.values():
            if job["status"] == "queued" and job["device"] == body["device"]:
                job["status"], job["attempts"] = "leased", job["attempts"] + 1
                return httpx.Response(200, json={"jobs": [job]})
        return httpx.Response(200, json={"jobs": []})

    def _store(self, body: dict[str, Any]) -> httpx.Response:
        key = body["idempotency_key"]
        duplicate = key in self.measurements
        self.measurements.setdefault(key, body)
        number = list(self.measurements).index(key) + 1
        return httpx.Response(
            200 if duplicate else 201, json={"id": number, "duplicate": duplicate}
        )
