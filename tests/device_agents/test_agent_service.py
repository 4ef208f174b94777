"""The agent against the real service (``service.main.create_app`` on a temp SQLite database,
served by uvicorn on a free port): the wire contract end to end, outage and restart included."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from agent_models import mobile_cnn, small_cnn
from contract_server import free_port

from device_agents.agent import Agent
from device_agents.backends.base import BackendResult
from device_agents.client import AgentClient
from device_agents.isolation import BackendRunner
from device_agents.protocol import MeasurementProtocol
from device_agents.spool import Spool

service_main = pytest.importorskip("service.main", reason="service package not importable")
from service.core.config import Settings  # noqa: E402
from service.core.db import Database, make_engine  # noqa: E402
from service.crud.tokens import create_token  # noqa: E402
from service.migrate import upgrade  # noqa: E402

FAST = MeasurementProtocol(warmup_runs=2, min_runs=10, min_time_s=0.0, max_remeasure=0)
DEVICE = "ort-e2e"


class LiveService:
    """The real app in a uvicorn thread; ``stop`` / ``start`` restart it on the same database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        app = service_main.create_app(self.settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "service did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveService, str, str]]:
    url = f"sqlite:///{tmp_path / 'perfloop.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        token_cache_seconds=0,
        predictor_refresh_seconds=0,
    )
    db = Database(url)
    with db.session(write=True) as session:
        admin = create_token(session, "admin")
        agent = create_token(session, "agent", DEVICE)
    db.dispose()
    service = LiveService(settings)
    service.start()
    yield service, admin, agent
    if service.server is not None and not service.server.should_exit:
        service.stop()


class HookedRunner(BackendRunner):
    after: Any = staticmethod(lambda: None)

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        result = super().profile(onnx_bytes, protocol)
        self.after()
        return result


def _admin(service: LiveService, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=service.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _enqueue(admin: httpx.Client, models: list[bytes]) -> list[str]:
    ids = []
    for data in models:
        r = admin.post(
            "/models", content=data, headers={"Content-Type": "application/octet-stream"}
        )
        assert r.status_code in (200, 201), r.text
        ids.append(r.json()["id"])
    r = admin.post("/jobs", json={"device": DEVICE, "model_ids": ids})
    assert r.status_code == 201, r.text
    return ids


def _agent(service: LiveService, token: str, tmp_path: Path, runner: BackendRunner) -> Agent:
    client = AgentClient(
        service.url, token, timeout_s=30, max_attempts=2, initial_wait_s=0.01, max_wait_s=0.05
    )
    return Agent(
        client,
        runner,
        DEVICE,
        Spool(tmp_path / "spool"),
        FAST,
        heartbeat_interval_s=0.2,
        poll_interval_s=0.1,
    )


def _measurements(admin: httpx.Client) -> list[dict[str, Any]]:
    r = admin.get("/measurements", params={"device": DEVICE})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_agent_measures_queued_jobs_on_the_real_service(
    live: tuple[LiveService, str, str], tmp_path: Path
) -> None:
    service, admin_token, agent_token = live
    agent = _agent(service, agent_token, tmp_path, BackendRunner("ort-cpu", isolate=True))
    with _admin(service, admin_token) as admin:
        agent.register_device()
        device = admin.get(f"/devices/{DEVICE}").json()
        assert device["kind"] == "cpu" and device["simulated"] is False
        assert device["hardware"]["runtime_version"]
        ids = _enqueue(admin, [small_cnn(), mobile_cnn()])
        assert agent.run(once=True) == 0
        jobs = admin.get("/jobs", params={"device": DEVICE}).json()["jobs"]
        assert sorted(j["status"] for j in jobs) == ["done", "done"]
        stored = _measurements(admin)
        assert sorted(m["model_id"] for m in stored) == sorted(ids)
        assert all(m["measurement_kind"] == "measured" for m in stored)
    agent.client.close()


def test_outage_then_restart_uploads_exactly_once(
    live: tuple[LiveService, str, str], tmp_path: Path
) -> None:
    service, admin_token, agent_token = live
    runner = HookedRunner("ort-cpu", isolate=False)
    agent = _agent(service, agent_token, tmp_path, runner)
    with _admin(service, admin_token) as admin:
        agent.register_device()
        _enqueue(admin, [small_cnn()])
        runner.after = service.stop  # the service goes down between measuring and uploading
        assert agent.run(once=True) == 1
        spooled = list(agent.spool.pending())
        service.start()  # same database
        assert agent.flush_spool() == 0
        assert len(_measurements(admin)) == 1
        agent.spool.put(spooled[0])  # acknowledgement lost: the same result is sent again
        assert agent.flush_spool() == 0
        stored = _measurements(admin)
        assert len(stored) == 1
        jobs = admin.get("/jobs", params={"device": DEVICE}).json()["jobs"]
        assert [j["status"] for j in jobs] == ["done"]
    agent.client.close()
