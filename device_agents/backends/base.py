"""The one interface every backend implements, and what a profile returns.

A backend is split, after nn-Meter, into a *profiler* (runs the model: an interpreter on the host,
a tool over ``adb shell``, a compiler) and a *parser* (reads what the profiler produced: tool logs,
summary CSVs). Both halves live in the backend's module; only this interface is shared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from device_agents.errors import UnsupportedModelError
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceKind, LatencyStats, MeasurementKind

__all__ = ["Backend", "BackendResult", "UnsupportedModelError", "simulated_latency"]


def simulated_latency(latency_ms: float) -> LatencyStats:
    """Latency statistics of a simulator's single deterministic estimate (n_runs = 1, std = 0)."""
    return LatencyStats(
        median=latency_ms,
        mean=latency_ms,
        std=0.0,
        p10=latency_ms,
        p90=latency_ms,
        n_runs=1,
        warmup_runs=0,
        raw_samples_ms=None,
    )


class BackendResult(BaseModel):
    """What one profile of one model produced.

    ``cpu`` / ``clock_mhz`` name the (simulated) target when it is not the host; left None, the
    agent records the host's.
    """

    measurement_kind: MeasurementKind
    runtime: str
    runtime_version: str
    threads: int | None = None
    cpu: str | None = None
    clock_mhz: float | None = None
    latency_ms: LatencyStats | None = None
    energy_mj: float | None = None
    peak_memory_bytes: int | None = None
    flash_bytes: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Backend(ABC):
    """A way to measure (or simulate) a model on one kind of device.

    Attributes:
        name: Registry name (``ort-cpu``, ``litert``, ...).
        device_kind: Kind of the device the results are for.
        simulated: True when numbers come from a model of the hardware, not the hardware.
        runtime: Name of the runtime that executes (or simulates) the model.
    """

    name: ClassVar[str]
    device_kind: ClassVar[DeviceKind]
    simulated: ClassVar[bool]
    runtime: ClassVar[str]

    @property
    def measurement_kind(self) -> MeasurementKind:
        """``"simulated"`` for simulated backends, ``"measured"`` otherwise."""
        return "simulated" if self.simulated else "measured"

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Return runtime versions and device facts, stored as the device's ``hardware``."""

    @abstractmethod
    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Measure one model.

        Args:
            onnx_bytes: The model, serialised ONNX.
            protocol: How to time it (backends that simulate use only ``threads`` or nothing).

        Returns:
            The measurement.

        Raises:
            UnsupportedModelError: The backend cannot run this model.
        """
