"""``perfloop bench agent``: agent overhead, ort-cpu repeatability, models per hour per backend.

* overhead: the same models through a bare ``backend.profile`` loop and through the real agent
  loop (lease, download, heartbeats, spool with fsync, complete) against an in-memory service,
  isolated (one child process per profile, the default) and in-process;
* repeatability: median latency of one model in ``sessions`` fresh processes; spread =
  (max - min) / mean of the medians (target <= 3 %), with the wall clock and with the
  thread-CPU clock (which leaves out time the measuring thread was descheduled);
* host drift: two models timed run by run, interleaved, in one process for a few blocks of a
  second: the spread of each one's block medians and their correlation. It is the host's own
  speed moving under the measurement (other tenants of a VM, frequency), in the same run as the
  repeatability figure: when both models move together the spread is the host's, and no
  measurement protocol on that host can be more repeatable than it;
* throughput: models per hour per backend, each profile isolated as the agent runs it, from
  empty backend caches (ZigZag's layer cache points at a fresh directory), so the figure is a
  first run's, not one helped by earlier benchmarks.

Models are sampled from the search spaces (``predictor.spaces``), so the figures are for the
models perfloop actually measures.
"""

from __future__ import annotations

import logging
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import psutil

from benchmarks.agents.in_memory_service import InMemoryService
from device_agents.agent import Agent
from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.registry import get_backend
from device_agents.client import AgentClient
from device_agents.environment import cpu_model
from device_agents.isolation import BackendCrashError, BackendRunner
from device_agents.protocol import MeasurementProtocol
from device_agents.spool import Spool

logger = logging.getLogger(__name__)

BENCH_SPACES = ("kws", "nasbench201", "mobilenet", "kws")
THROUGHPUT_BACKENDS = ("ort-cpu", "litert", "litert-int8", "tflm-m55", "ethos-u55-128", "zigzag")


def space_models(count: int) -> list[tuple[str, bytes]]:
    """Sample ``count`` models from the search spaces (seeded) and export them to ONNX."""
    from predictor.spaces.registry import get_space

    models = []
    for i in range(count):
        name = BENCH_SPACES[i % len(BENCH_SPACES)]
        space = get_space(name)
        models.append((f"{name}#{i}", space.to_onnx(space.sample(random.Random(i)))))
    return models


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def overhead(backend: str, models: list[bytes], protocol: MeasurementProtocol) -> dict[str, Any]:
    """Seconds per model: bare profile loop vs the agent loop (isolated and in-process)."""
    impl = get_backend(backend)
    with empty_backend_caches():  # every variant starts from empty caches
        bare = _timed(lambda: [impl.profile(m, protocol) for m in models]) / len(models)
    result: dict[str, Any] = {"bare_s_per_model": bare}
    for isolate in (True, False):
        service = InMemoryService()
        for m in models:
            service.enqueue("bench", m)
        client = AgentClient("http://bench", "bench", transport=service.transport())
        with _tmp_spool() as spool, empty_backend_caches():
            agent = Agent(client, BackendRunner(backend, isolate=isolate), "bench", spool, protocol)
            seconds = _timed(lambda agent=agent: agent.run(once=True)) / len(models)
        assert len(service.measurements) == len(models), "agent lost a measurement"
        key = "agent_isolated" if isolate else "agent_in_process"
        result[f"{key}_s_per_model"] = seconds
        result[f"{key}_overhead_s"] = seconds - bare
        result[f"{key}_overhead_pct"] = 100.0 * (seconds - bare) / bare
    return result


@contextmanager
def empty_backend_caches() -> Iterator[None]:
    """Point the backends' on-disk caches (inherited by profiling child processes) at a new dir."""
    from device_agents.backends.zigzag_cache import ENV

    with (
        tempfile.TemporaryDirectory(prefix="perfloop-bench-cache-") as tmp,
        patch.dict(os.environ, {ENV: tmp}),
    ):
        yield


@contextmanager
def _tmp_spool() -> Iterator[Spool]:
    with tempfile.TemporaryDirectory(prefix="perfloop-bench-spool-") as tmp:
        yield Spool(Path(tmp))


def repeatability(
    backend: str, name: str, model: bytes, sessions: int, protocol: MeasurementProtocol
) -> dict[str, Any]:
    """Medians of one model over ``sessions`` fresh processes and their relative spread."""
    runner = BackendRunner(backend, isolate=True)
    medians, p10s = [], []
    for _ in range(sessions):
        stats = runner.profile(model, protocol).latency_ms
        assert stats is not None
        medians.append(stats.median)
        p10s.append(stats.p10)
    return {
        "model": name,
        "medians_ms": medians,
        "spread_pct": _spread(medians),
        "cv_pct": 100.0 * statistics.pstdev(medians) / statistics.fmean(medians),
        "p10s_ms": p10s,
        "p10_spread_pct": _spread(p10s),
    }


def _spread(values: list[float]) -> float:
    return 100.0 * (max(values) - min(values)) / statistics.fmean(values)


def host_drift(
    models: list[bytes], blocks: int = 10, block_s: float = 1.0, cpu_affinity: tuple[int, ...] = ()
) -> dict[str, Any]:
    """Block medians of two models timed run by run, interleaved, and how far they move together.

    Args:
        models: Two ONNX models (the first two benchmark models).
        blocks: Number of blocks.
        block_s: Seconds per block (both models together).
        cpu_affinity: CPUs to pin to while timing (empty: no pinning).

    Returns:
        Each model's block medians and their spread, the spread of the ratio of the two, and the
        Pearson correlation of the log block medians (None when a model did not move at all).
    """
    import onnx

    from device_agents.backends.ort_cpu import cpu_session
    from device_agents.onnx_inputs import random_inputs
    from device_agents.protocol import pinned

    runs = []
    for blob in models[:2]:
        session, feed = cpu_session(blob, 1), random_inputs(onnx.load_from_string(blob))
        runs.append(lambda session=session, feed=feed: session.run(None, feed))
    medians: list[list[float]] = [[], []]
    with pinned(cpu_affinity):
        for run in runs:
            for _ in range(10):
                run()
        for _ in range(blocks):
            samples: list[list[float]] = [[], []]
            end = time.perf_counter() + block_s
            while time.perf_counter() < end:
                for i, run in enumerate(runs):
                    t0 = time.perf_counter_ns()
                    run()
                    samples[i].append((time.perf_counter_ns() - t0) / 1e6)
            for i in range(2):
                medians[i].append(statistics.median(samples[i]))
    ratios = [a / b for a, b in zip(*medians, strict=True)]
    logs = [[math.log(v) for v in m] for m in medians]
    moved = all(statistics.pstdev(v) > 0 for v in logs)
    return {
        "blocks": blocks,
        "block_s": block_s,
        "block_medians_ms": medians,
        "spread_pct": [_spread(m) for m in medians],
        "ratio_spread_pct": _spread(ratios),
        "log_correlation": statistics.correlation(*logs) if moved and blocks > 1 else None,
    }


def throughput(backend: str, models: list[bytes], protocol: MeasurementProtocol) -> dict[str, Any]:
    """Models per hour of one backend (isolated profiles, unsupported models counted as done)."""
    runner = BackendRunner(backend, isolate=True)
    ok = failed = 0
    start = time.perf_counter()
    for m in models:
        try:
            runner.profile(m, protocol)
            ok += 1
        except (UnsupportedModelError, BackendCrashError) as exc:
            logger.warning("%s: %s", backend, exc)
            failed += 1
    seconds = time.perf_counter() - start
    return {
        "models": len(models),
        "measured": ok,
        "unsupported": failed,
        "s_per_model": seconds / len(models),
        "models_per_hour": 3600.0 * len(models) / seconds,
    }


def run_bench(
    backend: str = "ort-cpu",
    sessions: int = 5,
    n_models: int = 4,
    backends: tuple[str, ...] = THROUGHPUT_BACKENDS,
    cpu_affinity: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Run the three benchmarks and return their figures with the machine they ran on.

    ``cpu_affinity`` pins every measuring process to those CPUs (the agent's
    ``PERFLOOP_AGENT_CPU_AFFINITY``); empty leaves scheduling to the OS.
    """
    protocol = MeasurementProtocol(cpu_affinity=list(cpu_affinity))
    cpu_protocol = MeasurementProtocol(clock="thread_cpu", cpu_affinity=list(cpu_affinity))
    models = space_models(n_models)
    blobs = [m for _, m in models]
    result: dict[str, Any] = {
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": psutil.cpu_count(),
            "load_avg_1m_at_start": os.getloadavg()[0],
        },
        "protocol": protocol.model_dump(),
        "models": [n for n, _ in models],
        "overhead": overhead(backend, blobs, protocol),
        "repeatability": [
            {"clock": clock, **repeatability(backend, n, m, sessions, timing)}
            for clock, timing in (("wall", protocol), ("thread_cpu", cpu_protocol))
            for n, m in models[:2]
        ],
        "host_drift": host_drift(blobs, cpu_affinity=cpu_affinity),
    }
    with empty_backend_caches():
        result["throughput"] = {b: throughput(b, blobs, protocol) for b in backends}
    result["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0]
    return result
