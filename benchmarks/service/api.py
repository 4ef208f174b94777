"""``perfloop bench api``: HTTP throughput and latency of the service on this machine.

Starts a real server (uvicorn, ``--workers`` processes, SQLite in a temporary data dir), trains
a tiny predictor with ``predictor.api.train_predictor`` on measured NAS-Bench-201 latencies (real
table rows), then measures batch prediction throughput, single-model latency under concurrent
clients, and ONNX upload throughput. Models for the prediction runs are stored from their spec
IRs (the same IR an ONNX upload of the spec gives); the upload run posts real exported ONNX
files. The concurrent clients run in a separate, cheap process (:mod:`benchmarks.service.client`);
the single-model figures include the CPU time of the server processes and of that client,
because on a small machine they share the cores.
"""

from __future__ import annotations

import csv
import gzip
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

from benchmarks.service.client import ClientJob, run_clients
from service.blobstore import sha256_hex
from service.caches import WORKER_ENV_DEFAULTS
from service.core.db import Database
from service.crud import models as model_crud
from service.crud import predictors as predictor_crud
from service.crud.tokens import create_token
from service.migrate import upgrade
from service.models import Device, Measurement

if TYPE_CHECKING:
    from predictor.api import Sample

SPACE = "nasbench201"
DEVICE = "bench-cpu"


@dataclass
class BenchConfig:
    """Sizes of one benchmark run."""

    data: Path
    device_column: str = "gold_6240"
    models: int = 1000
    batch_rounds: int = 5
    clients: int = 16
    requests_per_client: int = 50
    uploads: int = 8
    train_archs: int = 300
    workers: int = 1
    warmup_per_client: int = 2


def default_table() -> Path:
    """The shared NAS-Bench-201 latency table (see :mod:`predictor.data.shared`).

    Raises:
        FileNotFoundError: not found (pass ``--data``).
    """
    from predictor.data.tables import default_table_path

    return default_table_path("nasbench201")


def read_latencies(path: Path, column: str, limit: int, seed: int = 0) -> list[tuple[str, float]]:
    """``limit`` random (arch, latency_ms) rows of one device column of a latency table."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:  # type: ignore[operator]
        rows = [(r["arch"], float(r[column])) for r in csv.DictReader(handle) if r.get(column)]
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def seed_database(db: Database, archs: list[tuple[str, float]], n_models: int) -> list[str]:
    """Store models from spec IRs; measurements for the first ``len(archs) - n_models``.

    Returns:
        The ids of the last ``n_models`` models (those without a measurement).
    """
    from predictor.spaces.registry import get_space

    space = get_space(SPACE)
    ids = []
    with db.session(write=True) as session:
        session.add(Device(name=DEVICE, kind="cpu", runtime="bench", simulated=False, hardware={}))
        for i, (arch, latency) in enumerate(archs):
            graph = space.to_ir(arch)
            row = model_crud.new_row(sha256_hex(arch.encode()), 0, graph, space=SPACE, spec=arch)
            model_crud.insert(session, row)
            ids.append(row.id)
            if i < len(archs) - n_models:
                session.add(_measurement(row.id, latency, i))
    return ids[len(archs) - n_models :]


def _measurement(model_id: str, latency_ms: float, i: int) -> Measurement:
    return Measurement(
        idempotency_key=f"bench-{i}",
        model_id=model_id,
        device=DEVICE,
        measurement_kind="measured",
        latency_median_ms=latency_ms,
        backend="table",
        runtime="nasbench201-table",
        runtime_version="published",
        agent_version="bench",
        environment_extra={},
    )


def seeded_samples(db: Database, seed_ids: list[str]) -> list[Sample]:
    """The seeded models' measured latencies as training samples of :data:`DEVICE`."""
    from predictor.api import Sample
    from predictor.ir.schema import GraphIR

    with db.session() as session:
        graphs = model_crud.ir_json_by_id(session, seed_ids)
        rows = session.query(Measurement.model_id, Measurement.latency_median_ms).all()
    return [
        Sample(GraphIR.from_json(graphs[mid]), DEVICE, latency_ms=lat)
        for mid, lat in rows
        if mid in graphs
    ]


def train_quick(db: Database, artifact_dir: Path, seed_ids: list[str]) -> str:
    """Train and activate a quick predictor on the seeded measurements; returns its version."""
    from predictor.api import load_predictor, train_predictor

    samples = seeded_samples(db, seed_ids)
    path = train_predictor(samples, artifact_dir, version="bench-quick", quick=True)
    version = load_predictor(path).version
    with db.session(write=True) as session:
        predictor_crud.register(session, version, str(path), {"bench": True})
        predictor_crud.activate(session, version)
    return version


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    data_dir: Path, database_url: str | None = None, workers: int = 1
) -> Iterator[str]:
    """A uvicorn server process on a free port serving ``create_app`` for ``data_dir``.

    Args:
        data_dir: ``PERFLOOP_DATA_DIR`` (blobs, predictor artifacts, default SQLite file).
        database_url: ``PERFLOOP_DATABASE_URL`` (default: the SQLite file in ``data_dir``).
        workers: uvicorn worker processes.

    Yields:
        The server's base URL.
    """
    port = _free_port()
    env = {**WORKER_ENV_DEFAULTS, **os.environ, "PERFLOOP_DATA_DIR": str(data_dir)}
    env.pop("PERFLOOP_DATABASE_URL", None)
    if database_url:
        env["PERFLOOP_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    command += ["--workers", str(workers)] if workers > 1 else []
    proc = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not become ready in 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _warm_workers(url: str, headers: dict[str, str], body: dict[str, Any], workers: int) -> None:
    """Send ``body`` on ``3 * workers`` new connections at once (not timed).

    Each uvicorn worker caches graphs and features in its own memory; the kernel hands each new
    connection to one of them, so several concurrent connections warm every worker (all of
    them stay cold only with probability ``workers * (1 / workers) ** (3 * workers)``).
    """

    def post() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            client.post("/api/v1/predictions", json=body).raise_for_status()

    with ThreadPoolExecutor(3 * workers) as pool:
        for future in [pool.submit(post) for _ in range(3 * workers)]:
            future.result()


def _batch(
    url: str, headers: dict[str, str], ids: list[str], rounds: int, workers: int = 1
) -> dict[str, float]:
    body = {"device": DEVICE, "model_ids": ids}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        started = time.perf_counter()
        client.post("/api/v1/predictions", json=body).raise_for_status()
        cold_s = time.perf_counter() - started
        if workers > 1:
            _warm_workers(url, headers, body, workers)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.post("/api/v1/predictions", json=body).raise_for_status()
            times.append(time.perf_counter() - started)
    median_s = statistics.median(times)
    return {
        "batch_size": len(ids),
        "cold_s": cold_s,
        "warm_median_s": median_s,
        "predictions_per_s": len(ids) / median_s,
    }


def cpu_by_pid(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds of each process still alive."""
    seconds = {}
    for proc in processes:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # exited meanwhile
            continue
        seconds[proc.pid] = times.user + times.system
    return seconds


def server_cpu_by_pid() -> dict[int, float]:
    """CPU seconds of every child process of this one (the server and its workers)."""
    return cpu_by_pid(psutil.Process().children(recursive=True))


def _concurrent(url: str, token: str, ids: list[str], cfg: BenchConfig) -> dict[str, float]:
    """Single-model requests from ``cfg.clients`` closed-loop clients, each on its own connection.

    Client ``k`` asks for models ``ids[(k * 131 + j) % len(ids)]``: every request names a
    different model of the 1,000 (the first ``warmup_per_client`` requests of each client are
    sent but not timed).
    """
    per_client = cfg.warmup_per_client + cfg.requests_per_client
    model = [[ids[(k * 131 + j) % len(ids)] for j in range(per_client)] for k in range(cfg.clients)]
    bodies = [[{"device": DEVICE, "model_ids": [mid]} for mid in mine] for mine in model]
    job = ClientJob(url, "/api/v1/predictions", token, bodies, warmup=cfg.warmup_per_client)
    before = server_cpu_by_pid()
    result = run_clients(job)
    after = server_cpu_by_pid()
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} requests failed: statuses {result['statuses']}")
    ordered = sorted(result["latencies_s"])
    total = cfg.clients * per_client
    server_cpu_s = sum(v - before.get(pid, 0.0) for pid, v in after.items() if pid in before)
    return {
        "clients": cfg.clients,
        "workers": cfg.workers,
        "requests": len(ordered),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p90_ms": 1000 * ordered[int(0.9 * len(ordered))],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max_ms": 1000 * ordered[-1],
        "requests_per_s": total / result["wall_s"],
        "server_cpu_ms_per_request": 1000 * server_cpu_s / total,
        "client_cpu_ms_per_request": 1000 * result["client_cpu_s"] / total,
    }


def _uploads(url: str, headers: dict[str, str], archs: list[str]) -> dict[str, float]:
    from predictor.spaces.registry import get_space

    space = get_space(SPACE)
    blobs = [space.to_onnx(arch) for arch in archs]
    octet = {**headers, "Content-Type": "application/octet-stream"}
    with httpx.Client(base_url=url, headers=octet, timeout=300) as client:
        started = time.perf_counter()
        for blob in blobs:
            assert client.post("/api/v1/models", content=blob).status_code == 201
        new_s = time.perf_counter() - started
        started = time.perf_counter()
        for blob in blobs:
            assert client.post("/api/v1/models", content=blob).status_code == 200
        again_s = time.perf_counter() - started
    total_mb = sum(len(b) for b in blobs) / 2**20
    return {
        "models": len(blobs),
        "mean_model_mb": total_mb / len(blobs),
        "new_models_per_s": len(blobs) / new_s,
        "new_mb_per_s": total_mb / new_s,
        "existing_models_per_s": len(blobs) / again_s,
    }


def run_benchmark(cfg: BenchConfig) -> dict[str, Any]:
    """Run every part and return the figures."""
    rows = read_latencies(cfg.data, cfg.device_column, cfg.train_archs + cfg.models + cfg.uploads)
    with tempfile.TemporaryDirectory(prefix="perfloop-bench-") as tmp:
        data_dir = Path(tmp)
        db = Database(f"sqlite:///{data_dir / 'perfloop.sqlite3'}")
        upgrade(db.engine)
        started = time.perf_counter()
        ids = seed_database(db, rows[: cfg.train_archs + cfg.models], cfg.models)
        seed_s = time.perf_counter() - started
        with db.session() as session:
            seed_ids = [r[0] for r in session.query(Measurement.model_id).all()]
        started = time.perf_counter()
        version = train_quick(db, data_dir / "predictors" / "bench", seed_ids)
        train_s = time.perf_counter() - started
        with db.session(write=True) as session:
            token = create_token(session, "admin")
        headers = {"Authorization": f"Bearer {token}"}
        db.dispose()
        with running_server(data_dir, workers=cfg.workers) as url:
            batch = _batch(url, headers, ids, cfg.batch_rounds, cfg.workers)
            single = _concurrent(url, token, ids, cfg)
            upload_archs = [arch for arch, _ in rows[cfg.train_archs + cfg.models :]]
            uploads = _uploads(url, headers, upload_archs) if upload_archs else {}
    return {
        "predictor_version": version,
        "seed_models_s": seed_s,
        "train_s": train_s,
        "batch": batch,
        "single_concurrent": single,
        "upload": uploads,
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
    }
