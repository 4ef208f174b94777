"""``litert`` / ``litert-int8``: the LiteRT interpreter (the runtime phones run) with XNNPACK on
the host, on the float32 or the fully int8 conversion of the model. Real measurements."""

from __future__ import annotations

import importlib.metadata
from typing import Any, ClassVar

import numpy as np
import psutil

from device_agents.backends.base import Backend, BackendResult, UnsupportedModelError
from device_agents.convert import onnx_to_tflite
from device_agents.environment import host_hardware
from device_agents.protocol import MeasurementProtocol, measure_latency
from device_agents.schemas import DeviceKind


def litert_version() -> str:
    """Version of the installed ``ai-edge-litert`` package."""
    return importlib.metadata.version("ai-edge-litert")


class LiteRTBackend(Backend):
    """Time the converted TFLite model with LiteRT's interpreter and its XNNPACK delegate.

    Args:
        int8: Run the fully int8 model instead of the float32 one.
    """

    name: ClassVar[str] = "litert"
    device_kind: ClassVar[DeviceKind] = "cpu"
    simulated: ClassVar[bool] = False
    runtime: ClassVar[str] = "litert"

    def __init__(self, int8: bool = False) -> None:
        self.int8 = int8

    @property
    def precision(self) -> str:
        """``int8`` or ``float32``."""
        return "int8" if self.int8 else "float32"

    def describe(self) -> dict[str, Any]:
        """LiteRT version, delegate, precision and host hardware."""
        return {
            "backend": "litert-int8" if self.int8 else "litert",
            "runtime_version": litert_version(),
            "delegate": "XNNPACK",
            "precision": self.precision,
            **host_hardware(),
        }

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Convert, load, time ``invoke()`` under the protocol, record the RSS increase."""
        from ai_edge_litert.interpreter import Interpreter

        model = onnx_to_tflite(onnx_bytes, int8=self.int8)
        process = psutil.Process()
        rss_before = process.memory_info().rss
        try:
            interpreter = Interpreter(model_content=model.data, num_threads=protocol.threads)
            interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise UnsupportedModelError(f"LiteRT cannot load the converted model: {exc}") from exc
        rng = np.random.default_rng(0)
        for detail in interpreter.get_input_details():
            shape, dtype = detail["shape"], detail["dtype"]
            value = (
                rng.integers(-128, 128, shape) if dtype == np.int8 else rng.standard_normal(shape)
            )
            interpreter.set_tensor(detail["index"], value.astype(dtype))
        interpreter.invoke()
        rss_peak = process.memory_info().rss
        stats, series = measure_latency(interpreter.invoke, protocol)
        rss_peak = max(rss_peak, process.memory_info().rss)
        return BackendResult(
            measurement_kind="measured",
            runtime=self.runtime,
            runtime_version=litert_version(),
            threads=protocol.threads,
            latency_ms=stats,
            peak_memory_bytes=max(int(rss_peak - rss_before), 0),
            flash_bytes=len(model.data),
            extra={
                "series": series,
                "precision": self.precision,
                "delegate": "XNNPACK",
                "tflite_operators": len(model.operators),
            },
        )
