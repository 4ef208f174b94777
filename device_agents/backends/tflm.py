"""``tflm``: TensorFlow Lite Micro on the host (the real MCU interpreter and kernels) for exact
tensor-arena bytes (peak RAM) and flash bytes, plus the Cortex-M cycle model for latency and
energy. Simulated: nothing runs on an MCU.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tempfile
from typing import Any, ClassVar

import numpy as np

from device_agents.backends.base import (
    Backend,
    BackendResult,
    UnsupportedModelError,
    simulated_latency,
)
from device_agents.backends.cycle_model import Target, load_target
from device_agents.convert import onnx_to_tflite
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceKind

_ARENA = re.compile(r"Arena allocation total (\d+) bytes")
MAX_ARENA_BYTES = 256 * 1024 * 1024


def tflm_version() -> str:
    """Version of the installed ``tflite-micro`` package."""
    return importlib.metadata.version("tflite-micro")


def _allocation_report(interpreter: Any) -> str:
    """Capture what TFLM's RecordingMicroAllocator prints to the C-level stderr."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            interpreter.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return sink.read().decode(errors="replace")


def arena_bytes(tflite_bytes: bytes) -> int:
    """Run the model once with TFLite Micro and return the exact tensor-arena bytes it used.

    Raises:
        UnsupportedModelError: TFLM cannot run the model (missing kernel, arena too big).
    """
    from tflite_micro import runtime

    size = max(64 * 1024, 4 * len(tflite_bytes))
    while True:
        try:
            interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=size)
            break
        except RuntimeError as exc:
            if size >= MAX_ARENA_BYTES:
                raise UnsupportedModelError(f"TFLite Micro cannot run the model: {exc}") from exc
            size *= 4
    from ai_edge_litert.schema_py_generated import Model

    inputs = Model.GetRootAsModel(tflite_bytes, 0).Subgraphs(0).InputsLength()
    for i in range(inputs):
        detail = interpreter.get_input_details(i)
        interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
    interpreter.invoke()
    match = _ARENA.search(_allocation_report(interpreter))
    if match is None:
        raise RuntimeError("TFLite Micro printed no arena allocation total")
    return int(match.group(1))


class TflmBackend(Backend):
    """TFLite Micro arena / flash bytes and a Cortex-M cycle model.

    Args:
        target: Modelled MCU (``cortex-m4``, ``cortex-m7``, ``cortex-m55``).
    """

    name: ClassVar[str] = "tflm"
    device_kind: ClassVar[DeviceKind] = "mcu"
    simulated: ClassVar[bool] = True
    runtime: ClassVar[str] = "tflite-micro"

    def __init__(self, target: str = "cortex-m4") -> None:
        self.target: Target = load_target(target)

    def describe(self) -> dict[str, Any]:
        """TFLM version and the modelled MCU."""
        t = self.target
        return {
            "backend": self.name,
            "runtime_version": tflm_version(),
            "simulated": True,
            "target": t.name,
            "clock_mhz": t.clock_mhz,
            "active_power_mw": t.active_power_mw,
            "sram_bytes": t.sram_bytes,
            "flash_bytes": t.flash_bytes,
            "latency_model": "per-operator Cortex-M cycle model (data/cortex_m_cycles.json)",
        }

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Convert to int8, run with TFLM for the arena, apply the cycle model."""
        model = onnx_to_tflite(onnx_bytes, int8=True)
        arena = arena_bytes(model.data)
        t = self.target
        if arena > t.sram_bytes:
            raise UnsupportedModelError(
                f"model needs {arena} bytes of tensor arena; {t.name} has {t.sram_bytes} of SRAM"
            )
        if len(model.data) > t.flash_bytes:
            raise UnsupportedModelError(
                f"model needs {len(model.data)} bytes of flash; {t.name} has {t.flash_bytes}"
            )
        cycles = t.cycles(model.op_stats)
        latency_ms = t.latency_ms(cycles)
        return BackendResult(
            measurement_kind="simulated",
            runtime=self.runtime,
            runtime_version=tflm_version(),
            threads=1,
            cpu=t.name,
            clock_mhz=t.clock_mhz,
            latency_ms=simulated_latency(latency_ms),
            energy_mj=t.energy_mj(latency_ms),
            peak_memory_bytes=arena,
            flash_bytes=len(model.data),
            extra={
                "cycles": cycles,
                "macs": sum(op.macs for op in model.op_stats),
                "latency_source": "Cortex-M cycle model (uncalibrated estimates)",
                "memory_source": "TFLite Micro RecordingMicroAllocator (exact arena bytes)",
                "flash_note": "model flatbuffer bytes; excludes the TFLM runtime code",
            },
        )
