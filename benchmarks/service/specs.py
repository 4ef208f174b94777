"""``perfloop bench specs``: scoring speed of never-seen specs (and stored models) over HTTP.

Starts a real uvicorn server (:func:`benchmarks.service.api.running_server`) on a temporary SQLite
data dir with a quick predictor trained on measured NAS-Bench-201 latencies (real table rows,
:func:`benchmarks.service.api.train_quick`), then, per target, times N never-seen items sent as
``POST /predictions`` requests of up to ``batch`` items each (``latency_ms`` with its interval),
from ``clients`` threads against ``workers`` uvicorn workers. Targets: a search space's specs
(``fbnet``, ``nasbench201``: sampled, deduplicated, none trained on or used to warm up) or
``onnx``: stored models scored by id (FBNet spec IRs stored as rows, the IR an ONNX upload of
the spec gives; no prediction has touched them before). Reports wall time, items/s and the
server's CPU seconds (all its processes), read with psutil.
"""

from __future__ import annotations

import os
import queue
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from benchmarks.service.api import (
    DEVICE,
    read_latencies,
    running_server,
    seed_database,
    seeded_samples,
    server_cpu_by_pid,
)
from service.blobstore import sha256_hex
from service.core.db import Database
from service.crud import models as model_crud
from service.crud import predictors as predictor_crud
from service.crud.tokens import create_token
from service.migrate import upgrade
from service.models import Measurement

Target = Literal["fbnet", "nasbench201", "onnx", "llm"]
ModelSize = Literal["full", "quick"]
TARGETS: tuple[Target, ...] = ("fbnet", "nasbench201", "onnx")
#: Every target ``--targets`` accepts (``llm``: decoder-LM prefill and decode specs).
ALL_TARGETS: tuple[Target, ...] = (*TARGETS, "llm")
#: Items of the untimed first request per target (loads the predictor, warms the code paths).
WARMUP_ITEMS = 50
#: The space whose spec IRs stand for uploaded ONNX models.
ONNX_SPACE = "fbnet"


@dataclass
class SpecsBenchConfig:
    """Sizes of one run."""

    data: Path
    targets: tuple[Target, ...] = TARGETS
    items: int = 10_000
    batch: int = 1000
    clients: int = 1
    workers: int = 1
    train_archs: int = 300
    seed: int = 123
    model: ModelSize = "full"


def fresh_specs(space: str, n: int, seed: int, exclude: set[str]) -> list[Any]:
    """``n`` distinct random specs of ``space`` whose text form is not in ``exclude``.

    Raises:
        ValueError: the space has too few architectures left.
    """
    from predictor.spaces.registry import get_space

    sp = get_space(space)
    rng = random.Random(seed)
    seen = set(exclude)
    out: list[Any] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 20 * n + 1000:
            raise ValueError(f"space {space!r} has fewer than {n} unseen architectures")
        arch = sp.sample(rng)
        key = str(arch)
        if key not in seen:
            seen.add(key)
            out.append(arch)
    return out


def store_models(db: Database, archs: list[Any]) -> list[str]:
    """Store one model row per spec IR of :data:`ONNX_SPACE` (as an upload would); their ids."""
    from predictor.spaces.registry import get_space

    sp = get_space(ONNX_SPACE)
    ids = []
    with db.session(write=True) as session:
        for arch in archs:
            row = model_crud.new_row(sha256_hex(f"bench-specs:{arch}".encode()), 0, sp.to_ir(arch))
            model_crud.insert(session, row)
            ids.append(row.id)
    return ids


def _bodies(target: Target, items: list[Any], batch: int) -> list[dict[str, Any]]:
    chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
    if target == "onnx":
        return [{"device": DEVICE, "model_ids": c, "metrics": ["latency_ms"]} for c in chunks]
    return [
        {
            "device": DEVICE,
            "specs": [{"space": target, "arch": a} for a in c],
            "metrics": ["latency_ms"],
        }
        for c in chunks
    ]


def _server_cpu_s() -> float:
    """CPU seconds (user + system) of this process's children: the server and its workers."""
    return sum(server_cpu_by_pid().values())


def send_all(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], clients: int
) -> float:
    """Post every body from ``clients`` threads (each takes the next body); the wall seconds."""
    work: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
    for body in bodies:
        work.put(body)
    errors: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                r = http.post("/api/v1/predictions", json=body)
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:300]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    return wall


def time_target(
    url: str, headers: dict[str, str], target: Target, items: list[Any], cfg: SpecsBenchConfig
) -> dict[str, float]:
    """Warm up on the first :data:`WARMUP_ITEMS` items, then time the rest; the figures."""
    warm, timed = items[:WARMUP_ITEMS], items[WARMUP_ITEMS:]
    send_all(url, headers, _bodies(target, warm, cfg.batch), 1)
    cpu = _server_cpu_s()
    client_cpu = time.process_time()
    wall = send_all(url, headers, _bodies(target, timed, cfg.batch), cfg.clients)
    server_cpu = _server_cpu_s() - cpu
    return {
        "items": len(timed),
        "wall_s": round(wall, 3),
        "items_per_s": round(len(timed) / wall, 1),
        "server_cpu_s": round(server_cpu, 3),
        "items_per_server_cpu_s": round(len(timed) / max(server_cpu, 1e-9), 1),
        "client_cpu_s": round(time.process_time() - client_cpu, 3),
    }


def train(db: Database, artifact_dir: Path, seed_ids: list[str], model: ModelSize) -> str:
    """Train and activate a predictor on the seeded measurements; returns its version.

    ``full``: the default model size and ensemble (what ``perfloop train`` serves) with 3 epochs,
    since scoring speed does not depend on the epochs; ``quick``: the tiny ``--quick`` model.
    """
    import torch

    from predictor.training.fit import QUICK_SETTINGS, FitSettings
    from predictor.training.from_samples import train_from_samples

    samples = seeded_samples(db, seed_ids)
    settings = QUICK_SETTINGS if model == "quick" else FitSettings(epochs=3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # intra-op threads stall on a busy machine (BENCHMARKS, Service)
    try:
        path = train_from_samples(samples, artifact_dir, settings, f"bench-specs-{model}")
    finally:
        torch.set_num_threads(threads)
    with db.session(write=True) as session:
        predictor_crud.register(session, f"bench-specs-{model}", str(path), {"bench": True})
        predictor_crud.activate(session, f"bench-specs-{model}")
    return f"bench-specs-{model}"


@contextmanager
def prepared(cfg: SpecsBenchConfig) -> Iterator[tuple[Path, Database, list[str]]]:
    """A temporary data dir with a trained, active quick predictor; its db and trained archs."""
    rows = read_latencies(cfg.data, "gold_6240", cfg.train_archs)
    with tempfile.TemporaryDirectory(prefix="perfloop-bench-specs-") as tmp:
        data_dir = Path(tmp)
        db = Database(f"sqlite:///{data_dir / 'perfloop.sqlite3'}")
        upgrade(db.engine)
        seed_database(db, rows, 0)
        with db.session() as session:
            seed_ids = [r[0] for r in session.query(Measurement.model_id).all()]
        train(db, data_dir / "predictors" / "bench", seed_ids, cfg.model)
        try:
            yield data_dir, db, [arch for arch, _ in rows]
        finally:
            db.dispose()


def run_specs_benchmark(cfg: SpecsBenchConfig) -> dict[str, Any]:
    """Run every target of ``cfg`` and return the figures."""
    total = cfg.items + WARMUP_ITEMS
    with prepared(cfg) as (data_dir, db, trained):
        items: dict[Target, list[Any]] = {}
        for k, target in enumerate(cfg.targets):
            space = ONNX_SPACE if target == "onnx" else target
            items[target] = fresh_specs(space, total, cfg.seed + k, set(trained))
        if "onnx" in items:
            items["onnx"] = store_models(db, items["onnx"])
        with db.session(write=True) as session:
            headers = {"Authorization": f"Bearer {create_token(session, 'admin')}"}
        db.dispose()
        results: dict[str, Any] = {}
        with running_server(data_dir, workers=cfg.workers) as url:
            for target in cfg.targets:
                results[target] = time_target(url, headers, target, items[target], cfg)
    return {
        "targets": results,
        "batch": cfg.batch,
        "clients": cfg.clients,
        "workers": cfg.workers,
        "model": cfg.model,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
