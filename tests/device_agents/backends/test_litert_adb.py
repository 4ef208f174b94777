"""The benchmark_model log parser of the adb transport, on a recorded log."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.litert_adb import parse_benchmark_log

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_parses_the_timed_run_not_the_warmup() -> None:
    parsed = parse_benchmark_log((FIXTURES / "benchmark_model_pixel7_int8.log").read_text())
    stats = parsed.latency_ms
    assert stats.n_runs == 558
    assert stats.warmup_runs == 10
    assert stats.mean == pytest.approx(1.79011)
    assert stats.median == pytest.approx(1.772)
    assert stats.std == pytest.approx(0.097)
    assert stats.p10 == pytest.approx(1.671 + (1.772 - 1.671) / 9)
    assert stats.p90 == pytest.approx(1.961 - (1.961 - 1.772) / 9)
    assert stats.raw_samples_ms is None
    assert parsed.peak_memory_bytes == int(13.6914 * 1024 * 1024)
    assert "interpolated" in parsed.percentiles


def test_old_tool_without_percentiles() -> None:
    log = "INFO: count=60 first=900 curr=850 min=800 max=1200 avg=875.5 std=40\n"
    parsed = parse_benchmark_log(log)
    assert parsed.latency_ms.median == pytest.approx(0.8755)
    assert parsed.peak_memory_bytes is None
    assert "no percentiles" in parsed.percentiles


def test_failed_run_quotes_the_tool_error() -> None:
    log = "ERROR: Didn't find op for builtin opcode 'HARD_SWISH' version '1'\nERROR: failed\n"
    with pytest.raises(UnsupportedModelError, match="HARD_SWISH"):
        parse_benchmark_log(log)
