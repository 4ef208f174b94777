"""The tflm backend: TFLite Micro arena bytes on real runs, and the Cortex-M cycle model."""

from __future__ import annotations

import pytest
from agent_models import erf_model, flatten_model, grouped_conv_model, mobile_cnn, small_cnn

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.registry import get_backend
from device_agents.protocol import MeasurementProtocol

pytest.importorskip("tflite_micro", reason="tflite-micro not installed")

from device_agents.backends.cycle_model import (
    calibrate,
    load_target,
    target_names,
)
from device_agents.convert import onnx_to_tflite

PROTOCOL = MeasurementProtocol()


def test_profile_is_simulated_with_exact_arena_and_flash() -> None:
    backend = get_backend("tflm")
    assert backend.simulated and backend.device_kind == "mcu"
    result = backend.profile(mobile_cnn(width=16, resolution=48), PROTOCOL)
    assert result.measurement_kind == "simulated"
    assert result.cpu == "cortex-m4" and result.clock_mhz == 168.0
    assert result.latency_ms is not None and result.latency_ms.n_runs == 1
    assert result.energy_mj is not None and result.energy_mj > 0
    # the arena holds at least the largest int8 activation pair (24x24x16 in, 24x24x16 out)
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes >= 2 * 24 * 24 * 16
    assert result.flash_bytes is not None and result.flash_bytes > 16 * 3 * 9
    assert "uncalibrated" in result.extra["latency_source"]


def test_arena_and_latency_grow_with_resolution() -> None:
    backend = get_backend("tflm")
    small = backend.profile(small_cnn(width=8, resolution=16), PROTOCOL)
    big = backend.profile(small_cnn(width=8, resolution=48), PROTOCOL)
    assert big.peak_memory_bytes > 3 * small.peak_memory_bytes  # type: ignore[operator]
    assert big.latency_ms.median > 4 * small.latency_ms.median  # type: ignore[union-attr]


def test_faster_targets_are_faster() -> None:
    onnx_bytes = small_cnn(width=16, resolution=32)
    m4, m7, m55 = (
        get_backend(n).profile(onnx_bytes, PROTOCOL) for n in ("tflm", "tflm-m7", "tflm-m55")
    )
    assert m4.latency_ms.median > m7.latency_ms.median > m55.latency_ms.median  # type: ignore[union-attr]
    assert m4.peak_memory_bytes == m7.peak_memory_bytes == m55.peak_memory_bytes


def test_model_too_big_for_the_mcu_fails_with_the_reason() -> None:
    with pytest.raises(UnsupportedModelError, match=r"bytes of tensor arena; cortex-m4 has 196608"):
        get_backend("tflm").profile(small_cnn(width=64, resolution=96), PROTOCOL)


def test_unsupported_operator_fails_with_its_name() -> None:
    with pytest.raises(UnsupportedModelError, match="operator Erf"):
        get_backend("tflm").profile(erf_model(), PROTOCOL)


def test_every_converter_opcode_has_coefficients() -> None:
    target = load_target("cortex-m4")
    for factory in (small_cnn, mobile_cnn, flatten_model, grouped_conv_model):
        for op in onnx_to_tflite(factory(), int8=True).operators:
            assert op in target.ops, op
    assert target_names() == ["cortex-m4", "cortex-m55", "cortex-m7"]


def test_calibrate_recovers_a_known_scale() -> None:
    target = load_target("cortex-m4")
    models = [
        onnx_to_tflite(small_cnn(width=w, resolution=r), int8=True).op_stats
        for w, r in ((8, 16), (16, 32), (8, 48))
    ]
    measured = [2.5 * target.latency_ms(target.cycles(ops)) for ops in models]
    fitted = calibrate(target, list(zip(models, measured, strict=True)))
    for ops, ms in zip(models, measured, strict=True):
        assert fitted.latency_ms(fitted.cycles(ops)) == pytest.approx(ms)
    with pytest.raises(KeyError, match="valid: cortex-m4"):
        load_target("cortex-a53")
