"""Backends loaded as ``module:Class`` plugins by the agent tests (in the agent's child process)."""

from __future__ import annotations

import os
import signal
import time
from typing import ClassVar

from device_agents.backends.base import BackendResult
from device_agents.backends.ort_cpu import OrtCpuBackend
from device_agents.protocol import MeasurementProtocol


class CrashOnErfBackend(OrtCpuBackend):
    """onnxruntime, except that a model containing Erf kills the process with SIGSEGV."""

    name: ClassVar[str] = "crash-on-erf"

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        if b"Erf" in onnx_bytes:
            os.kill(os.getpid(), signal.SIGSEGV)
        return super().profile(onnx_bytes, protocol)


class SlowBackend(OrtCpuBackend):
    """onnxruntime after a long pause: gives a test time to signal the agent mid-measurement."""

    name: ClassVar[str] = "slow"

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        time.sleep(60)
        return super().profile(onnx_bytes, protocol)


class SizeBackend(OrtCpuBackend):
    """A simulator whose latency is the model's size in MB: fast, deterministic, no timing."""

    name: ClassVar[str] = "size"
    simulated: ClassVar[bool] = True

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        from device_agents.backends.base import simulated_latency

        return BackendResult(
            measurement_kind="simulated",
            runtime="size",
            runtime_version="1",
            cpu="test-target",
            clock_mhz=100.0,
            latency_ms=simulated_latency(len(onnx_bytes) / 1e6),
        )
