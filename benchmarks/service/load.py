"""``perfloop bench load``: many concurrent clients mixing every kind of request, for a while.

Sets up a database (PostgreSQL or SQLite; it must be empty) the way ``perfloop bench api`` does
(the same seeding and quick predictor, trained on measured NAS-Bench-201 latencies), starts real
uvicorn replicas on it, warms their caches, then runs the traffic of
:mod:`benchmarks.service.load_traffic` and reports per-route p50/p99, throughput, errors by status,
the CPU the servers and PostgreSQL used, and the rows the run left in the database.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import func, select

from benchmarks.service.api import (
    DEVICE,
    SPACE,
    cpu_by_pid,
    read_latencies,
    running_server,
    seed_database,
    server_cpu_by_pid,
    train_quick,
)
from benchmarks.service.load_traffic import API, WEIGHTS, Recorder, Traffic, drive
from service.core.db import Database
from service.crud.tokens import create_token
from service.migrate import upgrade
from service.models import Device, Job, Measurement, Model, PredictionLog


@dataclass
class LoadConfig:
    """One load run."""

    data: Path
    database_url: str | None = None
    clients: int = 50
    seconds: float = 60.0
    replicas: int = 1
    workers: int = 1
    models: int = 1000
    train_archs: int = 300
    onnx_files: int = 12
    batch_size: int = 100
    agent_devices: int = 4
    device_column: str = "gold_6240"
    mix: dict[str, int] = field(default_factory=lambda: dict(WEIGHTS))


def _require_empty(db: Database) -> None:
    with db.session() as session:
        if session.scalar(select(func.count(Device.name))) or session.scalar(
            select(func.count(Model.id))
        ):
            raise ValueError(f"{db.url} already holds devices or models; give an empty database")


def _agents(db: Database, n: int) -> dict[str, str]:
    """``n`` agent devices, each with an agent token bound to it."""
    tokens = {}
    with db.session(write=True) as session:
        for i in range(n):
            name = f"load-agent-{i}"
            session.add(Device(name=name, kind="cpu", runtime="load", simulated=True, hardware={}))
            session.flush()
            tokens[name] = create_token(session, "agent", name)
    return tokens


def prepare(cfg: LoadConfig, data_dir: Path, url: str) -> tuple[Traffic, dict[str, float]]:
    """Migrate, seed, train and activate a quick predictor; tokens and ONNX files for clients.

    Returns:
        The traffic description and the set-up timings in seconds.
    """
    from predictor.spaces.registry import get_space

    db = Database(url)
    try:
        upgrade(db.engine)
        _require_empty(db)
        n_rows = cfg.train_archs + cfg.models + cfg.onnx_files
        rows = read_latencies(cfg.data, cfg.device_column, n_rows)
        started = time.perf_counter()
        ids = seed_database(db, rows[: cfg.train_archs + cfg.models], cfg.models)
        seeded_s = time.perf_counter() - started
        with db.session() as session:
            seed_ids = list(session.scalars(select(Measurement.model_id)))
        train_quick(db, data_dir / "predictors" / "load", seed_ids)
        trained_s = time.perf_counter() - started - seeded_s
        agents = _agents(db, cfg.agent_devices)
        with db.session(write=True) as session:
            client_token = create_token(session, "client")
    finally:
        db.dispose()
    space = get_space(SPACE)
    files = [space.to_onnx(arch) for arch, _ in rows[cfg.train_archs + cfg.models :]]
    batch = min(cfg.batch_size, len(ids))
    traffic = Traffic(client_token, agents, DEVICE, ids, files, batch, dict(cfg.mix))
    return traffic, {"seed_s": seeded_s, "train_s": trained_s}


async def _warm(urls: list[str], traffic: Traffic, per_url: int) -> None:
    """Predict every model a few times per replica so each worker's caches are warm.

    Raises:
        RuntimeError: a warm-up request failed (its status and body are in the message).
    """
    headers = {"Authorization": f"Bearer {traffic.client_token}"}
    body = {"device": traffic.predict_device, "model_ids": traffic.model_ids[:1000]}
    async with httpx.AsyncClient(timeout=600, headers=headers) as http:
        first = [http.post(f"{u}{API}/predictions", json=body) for u in urls]  # one cold call each
        more = [http.post(f"{u}{API}/predictions", json=body) for u in urls for _ in range(per_url)]
        for batch in (first, more):
            for response in await asyncio.gather(*batch):
                if response.status_code != 200:
                    raise RuntimeError(f"warm-up: {response.status_code} {response.text[:500]}")


def _postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if str(p.info["name"]).startswith("postgres")]


class CpuMeter:
    """CPU seconds used since creation by this process's children and by every PostgreSQL
    process (those started meanwhile count whole; those that exit meanwhile are missed)."""

    def __init__(self) -> None:
        self._servers = server_cpu_by_pid()
        self._postgres = cpu_by_pid(_postgres_processes())
        self._own = time.process_time()

    def used(self) -> dict[str, float]:
        """CPU seconds since creation: servers, PostgreSQL (machine-wide), this process."""
        servers = server_cpu_by_pid()
        postgres = cpu_by_pid(_postgres_processes())
        return {
            "servers": sum(v - self._servers.get(pid, 0.0) for pid, v in servers.items()),
            "postgres_all_processes": sum(
                v - self._postgres.get(pid, 0.0) for pid, v in postgres.items()
            ),
            "load_clients": time.process_time() - self._own,
        }


def summarize(rec: Recorder, elapsed_s: float) -> dict[str, Any]:
    """Per-route counts and latency percentiles, errors by status and by route, throughput."""
    routes = {}
    for route, samples in sorted(rec.latencies_s.items()):
        ordered = sorted(samples)
        routes[route] = {
            "requests": len(ordered),
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "per_s": len(ordered) / elapsed_s,
        }
    answered = sum(r["requests"] for r in routes.values())
    transport = sum(n for key, n in rec.errors.items() if key.startswith("transport:"))
    return {
        "elapsed_s": elapsed_s,
        "requests": answered + transport,
        "requests_per_s": (answered + transport) / elapsed_s,
        "predictions_per_s": rec.predictions / elapsed_s,
        "errors": {
            "total": sum(rec.errors.values()),
            "by_status": dict(rec.errors),
            "by_route": dict(rec.error_routes),
        },
        "routes": routes,
    }


def _row_counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.session() as session:
            count = {
                t: session.scalar(select(func.count()).select_from(t)) or 0
                for t in (PredictionLog, Measurement, Model)
            }
            done = session.scalar(select(func.count(Job.id)).where(Job.status == "done")) or 0
    finally:
        db.dispose()
    return {
        "prediction_log_rows": count[PredictionLog],
        "measurements": count[Measurement],
        "models": count[Model],
        "jobs_done": done,
    }


def _traffic_phase(cfg: LoadConfig, urls: list[str], traffic: Traffic) -> dict[str, Any]:
    """Warm up, then drive the clients while sampling CPU use and load average."""
    asyncio.run(_warm(urls, traffic, per_url=2 * cfg.workers))
    meter = CpuMeter()
    load_before = os.getloadavg()
    started = time.perf_counter()
    rec = asyncio.run(drive(urls, traffic, cfg.clients, cfg.seconds))
    elapsed = time.perf_counter() - started
    result = summarize(rec, elapsed)
    result["cpu_s"] = meter.used()
    result["loadavg"] = {"before": load_before, "after": os.getloadavg()}
    return result


def run_load(cfg: LoadConfig) -> dict[str, Any]:
    """Set up, run the traffic against ``cfg.replicas`` uvicorn replicas, report."""
    with tempfile.TemporaryDirectory(prefix="perfloop-load-") as tmp:
        data_dir = Path(tmp)
        url = cfg.database_url or f"sqlite:///{data_dir / 'perfloop.sqlite3'}"
        traffic, setup = prepare(cfg, data_dir, url)
        with ExitStack() as stack:
            urls = [
                stack.enter_context(running_server(data_dir, url, cfg.workers))
                for _ in range(cfg.replicas)
            ]
            result = _traffic_phase(cfg, urls, traffic)
        result["database"] = _row_counts(url)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    config["database_url"] = backend if cfg.database_url is None else _redacted(url)
    return {"backend": backend, "config": config, "setup": setup, "cpus": os.cpu_count(), **result}


def _redacted(url: str) -> str:
    """The URL without a password."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)
