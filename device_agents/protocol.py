"""The measurement protocol: warm-up, timed repeats, outlier fence, statistics, re-measurement.

Every backend that times something on the host goes through :func:`measure_latency`, so all real
latencies in perfloop are taken the same way:

1. ``warmup_runs`` untimed runs;
2. timed runs until both ``min_runs`` runs and ``min_time_s`` seconds are reached (capped by
   ``max_runs`` / ``max_time_s``);
3. samples outside the interquartile fence ``[Q1 - 1.5 IQR, Q3 + 1.5 IQR]`` are dropped;
4. when the coefficient of variation (std / mean) of what is left exceeds ``max_cv`` the whole
   series is re-measured, up to ``max_remeasure`` times; the series with the lowest CV is kept.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from device_agents.schemas import LatencyStats

logger = logging.getLogger(__name__)

IQR_FENCE = 1.5


class MeasurementProtocol(BaseModel):
    """How to time a model. Defaults follow common benchmarking practice (>= 50 runs, >= 1 s).

    ``clock="wall"`` (default) times each run with ``perf_counter``: the latency a user sees.
    ``clock="thread_cpu"`` times it with the calling thread's CPU time, which leaves out time the
    thread spent descheduled: far more repeatable on a shared machine, and equal to the wall time
    of an uncontended run only when the runtime computes in the calling thread (``threads=1``).
    """

    warmup_runs: int = Field(default=10, ge=0)
    min_runs: int = Field(default=50, ge=1)
    min_time_s: float = Field(default=1.0, ge=0)
    max_runs: int = Field(default=100_000, ge=1)
    max_time_s: float = Field(default=60.0, gt=0)
    max_cv: float = Field(default=0.10, gt=0)
    max_remeasure: int = Field(default=3, ge=0)
    threads: int = Field(default=1, ge=1)
    cpu_affinity: list[int] = Field(default_factory=list)
    keep_raw_samples: bool = True
    max_raw_samples: int = Field(default=2000, ge=1)
    clock: Literal["wall", "thread_cpu"] = "wall"

    @model_validator(mode="after")
    def _thread_clock_needs_one_thread(self) -> MeasurementProtocol:
        if self.clock == "thread_cpu" and self.threads != 1:
            raise ValueError(f"clock='thread_cpu' needs threads=1, got threads={self.threads}")
        return self


def iqr_filter(samples_ms: Sequence[float]) -> list[float]:
    """Drop samples outside the 1.5 IQR fence.

    Args:
        samples_ms: Raw samples.

    Returns:
        The samples inside ``[Q1 - 1.5 IQR, Q3 + 1.5 IQR]``, in their original order.
    """
    if len(samples_ms) < 4:
        return list(samples_ms)
    q1, q3 = np.percentile(samples_ms, [25, 75])
    low, high = q1 - IQR_FENCE * (q3 - q1), q3 + IQR_FENCE * (q3 - q1)
    return [s for s in samples_ms if low <= s <= high]


def coefficient_of_variation(samples_ms: Sequence[float]) -> float:
    """Return std / mean of the samples (0 for an empty or zero-mean list)."""
    if not samples_ms:
        return 0.0
    mean = float(np.mean(samples_ms))
    return float(np.std(samples_ms)) / mean if mean > 0 else 0.0


def summarize(
    samples_ms: Sequence[float],
    warmup_runs: int,
    keep_raw_samples: bool = True,
    max_raw_samples: int = 2000,
) -> LatencyStats:
    """Compute the recorded statistics of a series of timed runs.

    Args:
        samples_ms: Raw timed samples in milliseconds (before outlier removal).
        warmup_runs: Number of warm-up runs that preceded them.
        keep_raw_samples: Whether to keep the raw samples in the result.
        max_raw_samples: Longer series keep an evenly strided subset of this many raw samples
            (the statistics always use every sample).

    Returns:
        Median, mean, std, p10 and p90 of the samples inside the IQR fence; ``n_runs`` counts the
        samples kept after the fence.

    Raises:
        ValueError: When there are no samples.
    """
    if not samples_ms:
        raise ValueError("no samples to summarize")
    kept = np.asarray(iqr_filter(samples_ms), dtype=np.float64)
    p10, median, p90 = np.percentile(kept, [10, 50, 90])
    return LatencyStats(
        median=float(median),
        mean=float(kept.mean()),
        std=float(kept.std()),
        p10=float(p10),
        p90=float(p90),
        n_runs=int(kept.size),
        warmup_runs=warmup_runs,
        raw_samples_ms=_subsample(samples_ms, max_raw_samples) if keep_raw_samples else None,
    )


def _subsample(samples_ms: Sequence[float], limit: int) -> list[float]:
    if len(samples_ms) <= limit:
        return [float(s) for s in samples_ms]
    idx = np.linspace(0, len(samples_ms) - 1, limit).round().astype(int)
    return [float(samples_ms[i]) for i in idx]


def time_runs(run: Callable[[], object], protocol: MeasurementProtocol) -> list[float]:
    """Warm up, then time ``run`` until the protocol's count and time minimums are both met.

    Args:
        run: One inference.
        protocol: The protocol.

    Returns:
        The timed samples in milliseconds.
    """
    for _ in range(protocol.warmup_runs):
        run()
    samples: list[float] = []
    clock = time.thread_time_ns if protocol.clock == "thread_cpu" else time.perf_counter_ns
    started = time.perf_counter()
    while True:
        t0 = clock()
        run()
        samples.append((clock() - t0) / 1e6)
        elapsed = time.perf_counter() - started
        enough = len(samples) >= protocol.min_runs and elapsed >= protocol.min_time_s
        capped = len(samples) >= protocol.max_runs or elapsed >= protocol.max_time_s
        if enough or capped:
            return samples


def measure_latency(
    run: Callable[[], object], protocol: MeasurementProtocol
) -> tuple[LatencyStats, int]:
    """Time ``run`` under the protocol, re-measuring while the variation is too high.

    Args:
        run: One inference.
        protocol: The protocol.

    Returns:
        The statistics of the series with the lowest coefficient of variation, and how many series
        were measured in all.
    """
    best: LatencyStats | None = None
    best_cv = float("inf")
    series = 0
    with pinned(protocol.cpu_affinity):
        for _ in range(protocol.max_remeasure + 1):
            series += 1
            stats = summarize(
                time_runs(run, protocol), protocol.warmup_runs, protocol.keep_raw_samples
            )
            cv = stats.std / stats.mean if stats.mean > 0 else 0.0
            if cv < best_cv:
                best, best_cv = stats, cv
            if cv <= protocol.max_cv:
                break
            logger.info("CV %.3f above %.3f: re-measuring", cv, protocol.max_cv)
    assert best is not None
    return best, series


@contextmanager
def pinned(cpus: Sequence[int]) -> Iterator[None]:
    """Pin the current process to ``cpus`` for the duration of the block (no-op when empty).

    Args:
        cpus: CPU indices; empty means no pinning.
    """
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)
