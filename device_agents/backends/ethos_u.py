"""``ethos-u55-128`` / ``ethos-u55-256`` / ``ethos-u65-256`` / ``ethos-u85-256``: Arm's Vela
compiler for the Ethos-U NPUs. Simulated: Vela's performance estimator, not silicon.

Profiler: convert the model to full int8 TFLite (the shared converter) and compile it with Vela
for the accelerator and one of the system configurations shipped in Vela's ``vela.ini``.
Parser: read Vela's summary CSV: latency = ``cycles_total / core_clock``, peak memory = SRAM used,
flash = size of the compiled model (weights + command stream), plus the CPU-fallback count.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.metadata
import io
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from device_agents.backends.base import (
    Backend,
    BackendResult,
    UnsupportedModelError,
    simulated_latency,
)
from device_agents.convert import onnx_to_tflite
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceKind

# accelerator -> (Vela system config, memory mode), all defined in Vela's bundled Arm/vela.ini
SYSTEMS: dict[str, tuple[str, str]] = {
    "ethos-u55-128": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u55-256": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u65-256": ("Ethos_U65_High_End", "Dedicated_Sram"),
    "ethos-u85-256": ("Ethos_U85_SYS_DRAM_Mid", "Dedicated_Sram_384KB"),
}
_CPU_OPS = re.compile(r"CPU operators = (\d+)")


def vela_version() -> str:
    """Version of the installed ``ethos-u-vela`` package."""
    return importlib.metadata.version("ethos-u-vela")


def parse_summary(csv_text: str) -> dict[str, Any]:
    """Parse Vela's summary CSV into the figures perfloop records.

    Returns:
        ``latency_ms``, ``sram_bytes``, ``cycles``, ``clock_hz`` and memory-area usage in bytes.
    """
    row = next(csv.DictReader(io.StringIO(csv_text)))
    kib = 1024.0
    clock_hz = float(row["core_clock"])
    cycles = float(row["cycles_total"])
    return {
        "latency_ms": cycles / clock_hz * 1e3,
        "cycles": cycles,
        "cycles_npu": float(row["cycles_npu"]),
        "clock_hz": clock_hz,
        "sram_bytes": int(float(row["sram_memory_used"]) * kib),
        "dram_bytes": int(float(row["dram_memory_used"]) * kib),
        "off_chip_flash_bytes": int(float(row["off_chip_flash_memory_used"]) * kib),
        "on_chip_flash_bytes": int(float(row["on_chip_flash_memory_used"]) * kib),
        "nn_macs": int(float(row["nn_macs"])),
        "system_config": row["system_config"],
        "memory_mode": row["memory_mode"],
    }


class EthosUBackend(Backend):
    """Vela compilation and performance estimate for one Ethos-U configuration.

    Args:
        accelerator: One of :data:`SYSTEMS`.
    """

    name: ClassVar[str] = "ethos-u"
    device_kind: ClassVar[DeviceKind] = "npu"
    simulated: ClassVar[bool] = True
    runtime: ClassVar[str] = "vela"

    def __init__(self, accelerator: str = "ethos-u55-128") -> None:
        if accelerator not in SYSTEMS:
            raise KeyError(f"unknown accelerator {accelerator!r}; valid: {', '.join(SYSTEMS)}")
        self.accelerator = accelerator
        self.system_config, self.memory_mode = SYSTEMS[accelerator]

    def describe(self) -> dict[str, Any]:
        """Vela version, accelerator, system configuration and memory mode."""
        return {
            "backend": self.accelerator,
            "runtime_version": vela_version(),
            "simulated": True,
            "accelerator": self.accelerator,
            "system_config": self.system_config,
            "memory_mode": self.memory_mode,
            "latency_model": "Vela performance estimator (cycles / core clock)",
        }

    def _compile(self, tflite_bytes: bytes, work: Path) -> str:
        from ethosu.vela.vela import main as vela_main

        (work / "model.tflite").write_bytes(tflite_bytes)
        config = resources.files("ethosu").joinpath("config_files/Arm/vela.ini")
        argv = [
            str(work / "model.tflite"),
            f"--accelerator-config={self.accelerator}",
            f"--system-config={self.system_config}",
            f"--memory-mode={self.memory_mode}",
            f"--config={config}",
            f"--output-dir={work / 'out'}",
        ]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                status = vela_main(argv)
            except Exception as exc:  # Vela raises many internal types
                raise UnsupportedModelError(f"Vela cannot compile the model: {exc}") from exc
        if status:
            raise UnsupportedModelError(f"Vela failed (status {status}): {out.getvalue()[-500:]}")
        return out.getvalue()

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Convert to int8, compile with Vela, parse the summary."""
        model = onnx_to_tflite(onnx_bytes, int8=True)
        with tempfile.TemporaryDirectory(prefix="perfloop-vela-") as tmp:
            work = Path(tmp)
            log = self._compile(model.data, work)
            summary = parse_summary(next((work / "out").glob("*_summary_*.csv")).read_text())
            compiled_bytes = (work / "out" / "model_vela.tflite").stat().st_size
        cpu_ops = _CPU_OPS.search(log)
        return BackendResult(
            measurement_kind="simulated",
            runtime=self.runtime,
            runtime_version=vela_version(),
            threads=None,
            cpu=self.accelerator,
            clock_mhz=summary["clock_hz"] / 1e6,
            latency_ms=simulated_latency(summary["latency_ms"]),
            peak_memory_bytes=summary["sram_bytes"],
            flash_bytes=compiled_bytes,
            extra={
                **{k: v for k, v in summary.items() if k != "latency_ms"},
                "cpu_fallback_operators": int(cpu_ops.group(1)) if cpu_ops else None,
                "latency_source": "Vela performance estimator (NPU only; CPU fallback excluded)",
                "flash_note": "size of the Vela-compiled model (weights + command stream)",
            },
        )
