"""The Ethos-U backends: real Vela compilations of small models, and the summary parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_models import erf_model, mobile_cnn, small_cnn

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.registry import get_backend
from device_agents.protocol import MeasurementProtocol

pytest.importorskip("ethosu.vela", reason="ethos-u-vela not installed")

from device_agents.backends.ethos_u import parse_summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROTOCOL = MeasurementProtocol()


def test_parse_recorded_summary() -> None:
    summary = parse_summary((FIXTURES / "vela_summary_u55_128.csv").read_text())
    assert summary["cycles"] == 10551
    assert summary["clock_hz"] == 500e6
    assert summary["latency_ms"] == pytest.approx(10551 / 500e6 * 1e3)
    assert summary["sram_bytes"] == int(7.90625 * 1024)
    assert summary["off_chip_flash_bytes"] == int(2.4375 * 1024)
    assert summary["system_config"] == "Ethos_U55_High_End_Embedded"


@pytest.mark.parametrize(
    "name", ["ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u85-256"]
)
def test_every_configuration_compiles_a_mobile_block(name: str) -> None:
    backend = get_backend(name)
    assert backend.simulated and backend.device_kind == "npu"
    result = backend.profile(mobile_cnn(width=16, resolution=32), PROTOCOL)
    assert result.measurement_kind == "simulated"
    assert result.latency_ms is not None and result.latency_ms.median > 0
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes > 0
    assert result.flash_bytes is not None and result.flash_bytes > 0
    assert result.extra["cpu_fallback_operators"] == 0
    assert result.extra["nn_macs"] > 0
    assert backend.describe()["accelerator"] == name


def test_more_work_takes_more_cycles_and_more_macs_per_cycle_help() -> None:
    small = small_cnn(width=16, resolution=16)
    big = small_cnn(width=64, resolution=64)
    u55_128 = get_backend("ethos-u55-128")
    small_r, big_r = u55_128.profile(small, PROTOCOL), u55_128.profile(big, PROTOCOL)
    assert big_r.extra["cycles"] > 3 * small_r.extra["cycles"]
    assert big_r.peak_memory_bytes > small_r.peak_memory_bytes  # type: ignore[operator]
    wide = get_backend("ethos-u55-256").profile(big, PROTOCOL)
    assert wide.extra["cycles_npu"] < big_r.extra["cycles_npu"]


def test_unsupported_operator_fails_with_its_name() -> None:
    with pytest.raises(UnsupportedModelError, match="operator Erf"):
        get_backend("ethos-u").profile(erf_model(), PROTOCOL)
