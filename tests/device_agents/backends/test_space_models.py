"""Every fast backend on a real search-space model (kws); ZigZag takes 60-150 s on one, so its
tests use the small hand-built CNNs instead."""

from __future__ import annotations

import random

import pytest

from device_agents.backends.registry import get_backend
from device_agents.isolation import BackendRunner
from device_agents.protocol import MeasurementProtocol

spaces = pytest.importorskip("predictor.spaces.registry", reason="predictor spaces missing")

QUICK = MeasurementProtocol(warmup_runs=2, min_runs=10, min_time_s=0.0, max_remeasure=0)
BACKENDS = {
    "ort-cpu": "ort_cpu",
    "litert": "ai_edge_litert",
    "litert-int8": "ai_edge_litert",
    "tflm-m55": "tflite_micro",
    "ethos-u55-128": "ethosu.vela",
    "ethos-u85-256": "ethosu.vela",
}


@pytest.fixture(scope="module")
def kws_model() -> bytes:
    space = spaces.get_space("kws")
    data: bytes = space.to_onnx(space.sample(random.Random(0)))
    return data


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_backend_profiles_a_kws_model(name: str, kws_model: bytes) -> None:
    if BACKENDS[name] != "ort_cpu":
        pytest.importorskip(BACKENDS[name], reason=f"{BACKENDS[name]} not installed")
    backend = get_backend(name)
    # in a fresh child process, as the agent runs it: the RSS increase of a long-lived test
    # worker can be 0 when earlier tests left freed memory behind
    result = BackendRunner(name, isolate=True).profile(kws_model, QUICK)
    assert result.measurement_kind == ("simulated" if backend.simulated else "measured")
    assert result.latency_ms is not None and result.latency_ms.median > 0
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes > 0
    if name != "ort-cpu":
        assert result.flash_bytes is not None and result.flash_bytes > 100_000  # ~0.6 MB int8
