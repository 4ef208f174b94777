"""The zigzag backend: real ZigZag runs on small models (slowest backend: two runs in all)."""

from __future__ import annotations

import pytest
from agent_models import custom_op_model, small_cnn

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.registry import get_backend
from device_agents.protocol import MeasurementProtocol

pytest.importorskip("zigzag.stages.main", reason="zigzag-dse not installed")


def test_latency_and_energy_grow_with_the_model() -> None:
    backend = get_backend("zigzag")
    assert backend.simulated
    small = backend.profile(small_cnn(width=8, resolution=16), MeasurementProtocol())
    big = backend.profile(small_cnn(width=32, resolution=32), MeasurementProtocol())
    for result in (small, big):
        assert result.measurement_kind == "simulated"
        assert result.latency_ms is not None and result.latency_ms.median > 0
        assert result.energy_mj is not None and result.energy_mj > 0
        assert result.clock_mhz == 500.0
        assert result.extra["costed_layers"] == 4  # three Conv and one Gemm
        assert result.latency_ms.median == pytest.approx(result.extra["cycles"] / 500e3)
    assert big.energy_mj > 4 * small.energy_mj  # type: ignore[operator]
    assert big.extra["cycles"] > small.extra["cycles"]


def test_unknown_operator_fails_with_its_name() -> None:
    with pytest.raises(UnsupportedModelError, match="Frobnicate"):
        get_backend("zigzag").profile(custom_op_model(), MeasurementProtocol())


def test_unknown_accelerator_lists_the_valid_ones() -> None:
    from device_agents.backends.zigzag_backend import ZigZagBackend

    with pytest.raises(KeyError, match="valid: edge-tpu-like, tpu-like"):
        ZigZagBackend("gpu")
