"""``ort-cpu``: onnxruntime's CPU execution provider on the host. Real measurements."""

from __future__ import annotations

from typing import Any, ClassVar

import onnx
import onnxruntime as ort
import psutil

from device_agents.backends.base import Backend, BackendResult, UnsupportedModelError
from device_agents.environment import host_hardware
from device_agents.onnx_inputs import random_inputs
from device_agents.protocol import MeasurementProtocol, measure_latency
from device_agents.schemas import DeviceKind


class OrtCpuBackend(Backend):
    """Time a model with onnxruntime on the host CPU; peak memory is the RSS increase."""

    name: ClassVar[str] = "ort-cpu"
    device_kind: ClassVar[DeviceKind] = "cpu"
    simulated: ClassVar[bool] = False
    runtime: ClassVar[str] = "onnxruntime"

    def describe(self) -> dict[str, Any]:
        """Return onnxruntime's version and providers plus the host's hardware."""
        return {
            "backend": self.name,
            "runtime_version": ort.__version__,
            "execution_provider": "CPUExecutionProvider",
            **host_hardware(),
        }

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Create a session, time it under the protocol and record the RSS increase."""
        model = onnx.load_from_string(onnx_bytes)
        process = psutil.Process()
        rss_before = process.memory_info().rss
        session = cpu_session(onnx_bytes, protocol.threads)
        try:
            feed = random_inputs(model)
        except ValueError as exc:
            raise UnsupportedModelError(str(exc)) from exc
        session.run(None, feed)
        rss_peak = process.memory_info().rss
        stats, series = measure_latency(lambda: session.run(None, feed), protocol)
        rss_peak = max(rss_peak, process.memory_info().rss)
        return BackendResult(
            measurement_kind="measured",
            runtime=self.runtime,
            runtime_version=ort.__version__,
            threads=protocol.threads,
            latency_ms=stats,
            peak_memory_bytes=max(int(rss_peak - rss_before), 0),
            extra={"series": series, "graph_optimization": "ORT_ENABLE_ALL"},
        )


def cpu_session(onnx_bytes: bytes, threads: int) -> ort.InferenceSession:
    """The session every ort-cpu measurement uses (sequential, ``threads`` intra-op threads)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several untyped pybind errors
        raise UnsupportedModelError(f"onnxruntime cannot load the model: {exc}") from exc
