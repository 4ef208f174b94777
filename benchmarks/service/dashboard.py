"""Benchmark: dashboard page times on a database with many measurements.

Run ``python -m benchmarks.service.dashboard --measurements 100000`` (SQLite in a temporary folder,
or ``--database-url`` for PostgreSQL; the database must be empty). The rows are synthetic
(labelled ``simulated``): random models drawn from a few tiny graphs, one logged prediction
before each measurement. Prints one line per page: cold (first) and median warm time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from service.core.config import Settings
from service.crud.tokens import create_token
from service.main import create_app
from service.migrate import upgrade
from service.models import Device, Measurement, Model, PredictionLog, PredictorVersion, utcnow

FAMILIES = ("resnet", "mobilenet", "vit", "mlp")
OPS = ("Conv", "Gemm", "MatMul", "DepthwiseConv")
DEVICES = ("bench-cpu", "bench-gpu", "bench-npu", "bench-mcu")
VERSIONS = ("bench-v1", "bench-v2", "bench-v3")


def _ir_json(op: str, flops: int) -> str:
    nodes = [{"op_type": op, "flops": flops}, {"op_type": "Relu", "flops": 10}]
    return json.dumps({"nodes": nodes, "ir_version": 1})


def _models(n_models: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(n_models):
        flops = rng.randint(10**6, 10**9)
        rows.append(
            {
                "id": f"{i:064x}",
                "size_bytes": flops // 100,
                "ir_json": _ir_json(OPS[i % len(OPS)], flops),
                "ir_version": 1,
                "macs": flops // 2,
                "flops": flops,
                "params": flops // 1000,
                "model_bytes": flops // 250,
                "peak_activation_bytes": flops // 500,
                "num_nodes": 2,
                "unknown_ops": [],
                "family": FAMILIES[i % len(FAMILIES)],
                "fingerprint": f"{i:064x}",  # one network per synthetic model
            }
        )
    return rows


def fill(session: Session, n_measurements: int, seed: int = 0) -> None:
    """Insert devices, models, ``n_measurements`` measurements and as many logged predictions."""
    rng = random.Random(seed)
    now = utcnow()
    kinds = ("cpu", "gpu", "npu", "mcu")
    for name, kind in zip(DEVICES, kinds, strict=True):
        session.add(Device(name=name, kind=kind, runtime="bench", simulated=True, hardware={}))
    for i, v in enumerate(VERSIONS):
        status = "active" if i == len(VERSIONS) - 1 else "retired"
        session.add(PredictorVersion(version=v, artifact_path=v, metrics={}, status=status))
    models = _models(max(1, n_measurements // 20), rng)
    session.execute(insert(Model), models)
    measurements, predictions = [], []
    for i in range(n_measurements):
        model, device = rng.choice(models), DEVICES[i % len(DEVICES)]
        at = now - timedelta(minutes=n_measurements - i)
        actual = model["flops"] / 1e7 * (1 + DEVICES.index(device))
        version = VERSIONS[min(len(VERSIONS) - 1, 3 * i // n_measurements)]
        predicted = actual * rng.lognormvariate(0.0, 0.15)
        predictions.append(_prediction(model["id"], device, version, predicted, at))
        predictions[-1] |= {"fingerprint": model["id"], "check_kind": _check(i)}
        measurements.append(_measurement(i, model["id"], device, actual, at))
    for start in range(0, n_measurements, 10_000):
        session.execute(insert(PredictionLog), predictions[start : start + 10_000])
        session.execute(insert(Measurement), measurements[start : start + 10_000])


def _check(i: int) -> str | None:
    """About 1 % audited and 10 % doubt-triggered predictions."""
    return "audit" if i % 100 == 0 else "doubt" if i % 10 == 1 else None


def _prediction(model_id: str, device: str, version: str, mean: float, at: Any) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "device": device,
        "predictor_version": version,
        "metric": "latency_ms",
        "mean": mean,
        "std": 0.1 * mean,
        "lo": 0.8 * mean,
        "hi": 1.2 * mean,
        "created_at": at,
    }


def _measurement(i: int, model_id: str, device: str, actual: float, at: Any) -> dict[str, Any]:
    return {
        "idempotency_key": f"bench-{i}",
        "model_id": model_id,
        "fingerprint": model_id,  # as the insert default would copy it, without a query per row
        "device": device,
        "measurement_kind": "simulated",
        "latency_median_ms": actual,
        "backend": "bench",
        "runtime": "bench",
        "runtime_version": "0",
        "agent_version": "bench",
        "environment_extra": {},
        "measured_at": at + timedelta(seconds=30),
        "created_at": at + timedelta(seconds=30),
    }


def time_pages(
    client: TestClient, token: str, repeats: int
) -> dict[str, tuple[float, float, float]]:
    """(cold seconds, median warm seconds, median warm CPU seconds of this process) per page."""
    pages = {
        "overview": "/dashboard",
        "device": f"/dashboard/devices/{DEVICES[0]}?days=0",  # all time: the worst case
        "jobs": "/dashboard/jobs",
        "model": f"/dashboard/models/{0:064x}",
        "report": "/api/v1/error-report",  # the JSON error report: every device, version, day
    }
    headers = {"Authorization": f"Bearer {token}"}
    results = {}
    for name, path in pages.items():
        times, cpu = [], []
        for _ in range(repeats + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            response.raise_for_status()
        results[name] = (times[0], statistics.median(times[1:]), statistics.median(cpu[1:]))
    return results


def main() -> None:  # CLI entry point: prints its results
    """Fill a database and print the page times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measurements", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url)
        app = create_app(settings)
        state = app.state.perfloop
        upgrade(state.db.engine)
        start = time.perf_counter()
        with state.db.session(write=True) as session:
            fill(session, args.measurements)
            token = create_token(session, "client")
        if state.db.engine.dialect.name == "postgresql":
            with state.db.session() as session:  # what autovacuum does soon after a bulk load
                session.execute(text("ANALYZE"))
        print(f"filled {args.measurements} measurements in {time.perf_counter() - start:.1f} s")
        client = TestClient(app)  # no lifespan: the synthetic versions have no artifacts
        for page, (cold, warm, cpu) in time_pages(client, token, args.repeats).items():
            print(
                f"{page:9s} cold {1000 * cold:7.1f} ms   warm median {1000 * warm:7.1f} ms"
                f"   (CPU {1000 * cpu:7.1f} ms)"
            )
        state.db.dispose()


if __name__ == "__main__":
    main()
