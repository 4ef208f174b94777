"""Helpers of the reliability tests: real ``perfloop agent`` processes, models with ONNX bytes,
polling, and the end-state checks of a job queue."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from service.blobstore import BlobStore
from service.crud import jobs as job_crud
from service.models import Job, Measurement
from tests.reliability.stack import Stack
from tests.service.factories import make_device, make_model, tiny_onnx


def agent_command(spool: Path, device: str, backend: str = "ort-cpu") -> list[str]:
    """A real agent, profiling in-process (so SIGKILL stops the measurement too)."""
    return [
        sys.executable, "-m", "perfloop", "agent", "--backend", backend, "--device", device,
        "--no-isolate", "--spool-dir", str(spool),
    ]  # fmt: skip


def agent_env(url: str, token: str, lease_seconds: int, min_time_s: float = 0.0) -> dict[str, str]:
    """Leases of ``lease_seconds`` (heartbeats 4 times per lease) and a protocol of at least
    ``min_time_s`` seconds per job."""
    return {
        "PERFLOOP_AGENT_SERVER": url,
        "PERFLOOP_AGENT_TOKEN": token,
        "PERFLOOP_AGENT_LEASE_SECONDS": str(lease_seconds),
        "PERFLOOP_AGENT_HEARTBEAT_INTERVAL_S": str(lease_seconds / 4),
        "PERFLOOP_AGENT_POLL_INTERVAL_S": "0.2",
        "PERFLOOP_AGENT_WARMUP_RUNS": "1",
        "PERFLOOP_AGENT_MIN_RUNS": "3",
        "PERFLOOP_AGENT_MIN_TIME_S": str(min_time_s),
        # the time decides, not the run count: a tiny model does 100,000 runs in under a second
        "PERFLOOP_AGENT_MAX_RUNS": "1000000000",
        "PERFLOOP_AGENT_MAX_REMEASURE": "0",
    }


def wait_for(probe: Callable[[], object], timeout_s: float, what: str) -> None:
    """Poll ``probe`` until it returns something true.

    Raises:
        AssertionError: ``timeout_s`` passed first.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def queue_jobs(stack: Stack, device: str, n: int) -> list[int]:
    """Create ``device``, ``n`` models whose ONNX bytes are in the blob store, and a job each."""
    blobs = BlobStore(stack.data_dir / "blobs")
    with stack.db.session(write=True) as session:
        make_device(session, device)
        jobs = []
        for i in range(n):
            model_id = blobs.put(tiny_onnx(channels=1 + i // 20, size=3 + i % 20))
            make_model(session, id=model_id)
            jobs.append(job_crud.enqueue_one(session, device, model_id, 0, max_attempts=20))
        session.flush()
        return [job.id for job in jobs]


def assert_spools_empty(spools: list[Path]) -> None:
    """Nothing left to upload, nothing half-written, nothing rejected by the server."""
    for spool in spools:
        left = sorted(p.name for p in spool.rglob("*") if p.is_file())
        assert left == [], (spool, left)


def open_jobs(stack: Stack) -> int:
    """Jobs still queued or leased."""
    with stack.db.session() as session:
        query = select(func.count()).select_from(Job).where(Job.status.in_(("queued", "leased")))
        return int(session.scalar(query) or 0)


def check_each_job_once(stack: Stack) -> Counter[str]:
    """Assert the end state of a queue run with kills: every job done (its one measurement
    linked to it) or failed with a reason, no result stored twice, no job measured twice.

    Returns:
        Job statuses and their counts.
    """
    with stack.db.session() as session:
        jobs = session.scalars(select(Job)).all()
        rows = session.scalars(select(Measurement)).all()
    per_model = Counter(m.model_id for m in rows)
    profiles = Counter(str(m.environment_extra.get("profile_id")) for m in rows)
    by_id = {m.id: m for m in rows}
    for job in jobs:
        assert job.status in ("done", "failed"), (job.id, job.status)
        if job.status == "done":
            measurement = by_id[job.measurement_id]  # type: ignore[index]
            assert measurement.job_id == job.id and measurement.model_id == job.model_id
            assert per_model[job.model_id] == 1, (job.id, per_model[job.model_id])
        else:
            assert job.reason, job.id
            assert per_model[job.model_id] <= 1, (job.id, per_model[job.model_id])
    assert len({m.idempotency_key for m in rows}) == len(rows)
    if any("profile_id" in m.environment_extra for m in rows):
        assert max(profiles.values()) == 1  # no result re-sent under a new key
    return Counter(job.status for job in jobs)
