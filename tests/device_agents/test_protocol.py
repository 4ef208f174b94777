"""Statistics of the measurement protocol on known sample lists, and its run-count rules."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from device_agents.protocol import (
    MeasurementProtocol,
    coefficient_of_variation,
    iqr_filter,
    measure_latency,
    pinned,
    summarize,
    time_runs,
)


def test_iqr_filter_drops_only_points_outside_the_fence() -> None:
    samples = [10.0, 11.0, 12.0, 13.0, 14.0, 100.0, -50.0]
    # Q1 = 10.5, Q3 = 13.5, IQR = 3 -> fence [6, 18]
    assert iqr_filter(samples) == [10.0, 11.0, 12.0, 13.0, 14.0]


def test_iqr_filter_keeps_points_on_the_fence() -> None:
    samples = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0]  # Q1 = 2.25, Q3 = 4.75 -> upper fence 8.5
    assert iqr_filter(samples) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert iqr_filter([1.0, 2.0, 3.0, 4.0, 5.0, 8.5]) == [1.0, 2.0, 3.0, 4.0, 5.0, 8.5]


def test_summarize_known_values() -> None:
    samples = [float(v) for v in range(1, 11)] + [1000.0]
    stats = summarize(samples, warmup_runs=3)
    kept = np.arange(1, 11, dtype=float)
    assert stats.n_runs == 10
    assert stats.warmup_runs == 3
    assert stats.median == pytest.approx(5.5)
    assert stats.mean == pytest.approx(5.5)
    assert stats.std == pytest.approx(float(kept.std()))
    assert stats.p10 == pytest.approx(1.9)
    assert stats.p90 == pytest.approx(9.1)
    assert stats.raw_samples_ms == samples  # raw samples keep the outlier


def test_summarize_subsamples_long_raw_series_but_not_the_statistics() -> None:
    samples = [1.0] * 5000 + [2.0] * 5000
    stats = summarize(samples, warmup_runs=0, max_raw_samples=100)
    assert stats.raw_samples_ms is not None and len(stats.raw_samples_ms) == 100
    assert stats.n_runs == 10000
    assert stats.mean == pytest.approx(1.5)


def test_summarize_rejects_empty() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarize([], warmup_runs=0)


def test_coefficient_of_variation() -> None:
    assert coefficient_of_variation([2.0, 2.0, 2.0]) == 0.0
    assert coefficient_of_variation([1.0, 3.0]) == pytest.approx(0.5)


def test_time_runs_meets_both_count_and_time_minimums() -> None:
    calls = []
    protocol = MeasurementProtocol(warmup_runs=4, min_runs=50, min_time_s=0.0)
    samples = time_runs(lambda: calls.append(1), protocol)
    assert len(samples) == 50 and len(calls) == 54

    protocol = MeasurementProtocol(warmup_runs=0, min_runs=5, min_time_s=0.05)
    samples = time_runs(lambda: time.sleep(0.002), protocol)
    assert len(samples) > 5
    assert sum(samples) >= 40.0  # ms, at least min_time minus loop overhead
    assert min(samples) >= 2.0


def test_measure_latency_remeasures_noisy_series_up_to_the_limit() -> None:
    state = {"i": 0}

    def noisy() -> None:  # alternates 0 ms and 3 ms: CV near 1, the fence keeps both modes
        state["i"] += 1
        if state["i"] % 2:
            time.sleep(0.003)

    protocol = MeasurementProtocol(
        warmup_runs=0, min_runs=20, min_time_s=0.0, max_cv=0.05, max_remeasure=2
    )
    stats, series = measure_latency(noisy, protocol)
    assert series == 3
    assert stats.raw_samples_ms is not None and len(stats.raw_samples_ms) >= 20


def test_measure_latency_stops_after_one_quiet_series() -> None:
    protocol = MeasurementProtocol(warmup_runs=2, min_runs=20, min_time_s=0.0, max_cv=10.0)
    stats, series = measure_latency(lambda: time.sleep(0.001), protocol)
    assert series == 1
    assert stats.median >= 1.0


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no sched_setaffinity here")
def test_pinned_restores_affinity() -> None:
    before = os.sched_getaffinity(0)
    cpu = min(before)
    with pinned([cpu]):
        assert os.sched_getaffinity(0) == {cpu}
    assert os.sched_getaffinity(0) == before


def test_thread_cpu_clock_leaves_out_time_spent_descheduled() -> None:
    wall = MeasurementProtocol(warmup_runs=0, min_runs=5, min_time_s=0.0)
    cpu = MeasurementProtocol(warmup_runs=0, min_runs=5, min_time_s=0.0, clock="thread_cpu")
    assert min(time_runs(lambda: time.sleep(0.005), wall)) >= 5.0
    assert max(time_runs(lambda: time.sleep(0.005), cpu)) < 2.0  # sleeping uses no CPU


def test_thread_cpu_clock_needs_one_thread() -> None:
    with pytest.raises(ValueError, match="needs threads=1, got threads=2"):
        MeasurementProtocol(clock="thread_cpu", threads=2)
