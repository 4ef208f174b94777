"""The zigzag backend: real ZigZag runs on small models (slowest backend: two runs in all)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_models import custom_op_model, repeated_cnn, small_cnn

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


def _stock_zigzag(model: object, hardware: str, mapping: str) -> tuple[float, float]:
    """ZigZag's own reduction (SumStage over WorkloadStage): every layer searched."""
    from zigzag.stages.results.reduce_stages import SumStage
    from zigzag.stages.workload_iterator import WorkloadStage

    from device_agents.backends.zigzag_backend import run_pipeline

    total = run_pipeline([SumStage, WorkloadStage], model, hardware, mapping)[0][0]
    return float(total.energy_total), float(total.latency_total2)


def test_identical_layers_are_searched_once_with_zigzags_own_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import resources

    from device_agents.backends.zigzag_backend import ZigZagBackend
    from device_agents.convert.lower import prepare_onnx

    monkeypatch.setenv("PERFLOOP_AGENT_ZIGZAG_CACHE_DIR", str(tmp_path))
    backend = ZigZagBackend()
    result = backend.profile(repeated_cnn(), MeasurementProtocol())
    assert result.extra["costed_layers"] == 5  # stem, three identical cells, Gemm
    assert (result.extra["layers_searched"], result.extra["layers_reused"]) == (3, 2)
    again = backend.profile(repeated_cnn(), MeasurementProtocol())  # a later model, same layers
    assert (again.extra["layers_searched"], again.extra["layers_reused"]) == (0, 5)
    assert (again.extra["energy_pj"], again.extra["cycles"]) == (
        result.extra["energy_pj"],
        result.extra["cycles"],
    )
    monkeypatch.setenv("PERFLOOP_AGENT_ZIGZAG_CACHE_DIR", "off")
    alone = backend.profile(repeated_cnn(), MeasurementProtocol())
    assert (alone.extra["layers_searched"], alone.extra["layers_reused"]) == (3, 2)
    package = resources.files("zigzag")
    stock = _stock_zigzag(
        prepare_onnx(repeated_cnn()),
        str(package.joinpath(backend.spec["hardware"])),
        str(package.joinpath(backend.spec["mapping"])),
    )
    assert (result.extra["energy_pj"], result.extra["cycles"]) == stock


def test_unknown_operator_fails_with_its_name() -> None:
    with pytest.raises(UnsupportedModelError, match="Frobnicate"):
        get_backend("zigzag").profile(custom_op_model(), MeasurementProtocol())


def test_unknown_accelerator_lists_the_valid_ones() -> None:
    from device_agents.backends.zigzag_backend import ZigZagBackend

    with pytest.raises(KeyError, match="valid: edge-tpu-like, tpu-like"):
        ZigZagBackend("gpu")
