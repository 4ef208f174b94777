"""The benchmark harness: the in-memory service honours the contract and the agent loses nothing."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from benchmarks.agents.bench import host_drift, overhead, throughput
from benchmarks.agents.in_memory_service import InMemoryService
from device_agents.protocol import MeasurementProtocol
from tests.device_agents.agent_models import mobile_cnn, small_cnn

QUICK = MeasurementProtocol(warmup_runs=2, min_runs=10, min_time_s=0.0, max_remeasure=0)


def test_overhead_runs_every_model_through_the_agent() -> None:
    result = overhead("ort-cpu", [small_cnn(), mobile_cnn()], QUICK)
    for key in ("bare", "agent_isolated", "agent_in_process"):
        assert result[f"{key}_s_per_model"] > 0
    # a child process per profile costs more than running in the agent's process
    assert result["agent_isolated_s_per_model"] > result["agent_in_process_s_per_model"]


def test_host_drift_times_both_models_in_every_block() -> None:
    result = host_drift([small_cnn(), mobile_cnn()], blocks=3, block_s=0.05)
    small, mobile = result["block_medians_ms"]
    assert len(small) == len(mobile) == 3
    assert all(v > 0 for v in small + mobile)
    assert all(p >= 0 for p in result["spread_pct"]) and result["ratio_spread_pct"] >= 0
    corr = result["log_correlation"]
    assert corr is None or -1.0 <= corr <= 1.0


def test_backend_caches_are_empty_and_restored_around_a_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.agents.bench import empty_backend_caches
    from device_agents.backends.zigzag_cache import ENV

    monkeypatch.setenv(ENV, str(tmp_path))
    with empty_backend_caches():
        inside = Path(os.environ[ENV])
        assert inside != tmp_path and inside.is_dir() and not any(inside.iterdir())
    assert os.environ[ENV] == str(tmp_path) and not inside.exists()


def test_throughput_counts_measured_models() -> None:
    result = throughput("ort-cpu", [small_cnn()], QUICK)
    assert result["measured"] == 1 and result["unsupported"] == 0
    assert result["models_per_hour"] == 3600.0 / result["s_per_model"]


def test_in_memory_service_dedups_by_idempotency_key() -> None:
    service = InMemoryService()
    client = httpx.Client(transport=service.transport(), base_url="http://bench/api/v1")
    body = {"idempotency_key": "k", "model_id": "m"}
    first = client.post("/measurements", json=body)
    again = client.post("/measurements", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    assert client.post("/jobs/lease", json={"device": "d"}).json() == {"jobs": []}
