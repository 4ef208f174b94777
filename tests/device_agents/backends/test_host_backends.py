"""Real runs of the host backends (ort-cpu, litert, litert-int8) on small search-space models."""

from __future__ import annotations

import pytest
from agent_models import custom_op_model, erf_model, mobile_cnn, small_cnn

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.registry import backend_names, get_backend
from device_agents.protocol import MeasurementProtocol

QUICK = MeasurementProtocol(warmup_runs=3, min_runs=20, min_time_s=0.05, max_remeasure=1)


def _needs(backend: str) -> None:
    if backend.startswith("litert"):
        pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert not installed")


@pytest.mark.parametrize("backend", ["ort-cpu", "litert", "litert-int8"])
@pytest.mark.parametrize("factory", [small_cnn, mobile_cnn])
def test_profile_measures_latency_and_memory(backend: str, factory: object) -> None:
    _needs(backend)
    impl = get_backend(backend)
    result = impl.profile(factory(), QUICK)  # type: ignore[operator]
    assert result.measurement_kind == "measured" and not impl.simulated
    stats = result.latency_ms
    assert stats is not None
    assert stats.n_runs >= 1 and stats.warmup_runs == 3
    assert stats.raw_samples_ms is not None and len(stats.raw_samples_ms) >= 20
    assert 0 < stats.p10 <= stats.median <= stats.p90
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes >= 0
    assert result.runtime_version and result.threads == 1
    if backend.startswith("litert"):
        assert result.flash_bytes is not None and result.flash_bytes > 1000
        assert result.extra["precision"] == ("int8" if backend.endswith("int8") else "float32")


def test_bigger_model_is_slower_on_ort_cpu() -> None:
    impl = get_backend("ort-cpu")
    small = impl.profile(small_cnn(width=8, resolution=16), QUICK).latency_ms
    big = impl.profile(small_cnn(width=64, resolution=96), QUICK).latency_ms
    assert small is not None and big is not None
    assert big.median > 2 * small.median


def test_describe_records_runtime_and_host() -> None:
    info = get_backend("ort-cpu").describe()
    assert info["backend"] == "ort-cpu" and info["runtime_version"] and info["cpu"]
    assert "clock_mhz" in info


def test_ort_cpu_rejects_an_unknown_operator_by_name() -> None:
    with pytest.raises(UnsupportedModelError, match="Frobnicate"):
        get_backend("ort-cpu").profile(custom_op_model(), QUICK)


def test_litert_rejects_an_unconvertible_operator_by_name() -> None:
    _needs("litert")
    with pytest.raises(UnsupportedModelError, match="operator Erf"):
        get_backend("litert-int8").profile(erf_model(), QUICK)


def test_registry_lists_every_backend_and_names_the_valid_ones() -> None:
    names = backend_names()
    for expected in (
        "ort-cpu",
        "litert",
        "litert-int8",
        "litert-adb",
        "tflm",
        "zigzag",
        "ethos-u55-128",
        "ethos-u65-256",
        "ethos-u85-256",
        "zigzag-tpu",
        "tflm-m55",
    ):
        assert expected in names
    with pytest.raises(KeyError, match=r"valid: .*ort-cpu"):
        get_backend("no-such-backend")
