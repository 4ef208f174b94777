"""The agent's side of the ``/api/v1`` wire contract (field names match the service exactly)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DeviceKind = Literal["mcu", "phone", "npu", "cpu", "gpu"]
MeasurementKind = Literal["measured", "simulated"]
JobStatus = Literal["queued", "leased", "done", "failed"]


class LatencyStats(BaseModel):
    """Latency statistics of one measurement, in milliseconds."""

    median: float
    mean: float
    std: float
    p10: float
    p90: float
    n_runs: int = Field(ge=0)
    warmup_runs: int = Field(ge=0)
    raw_samples_ms: list[float] | None = None


class Environment(BaseModel):
    """Where and how a measurement was taken."""

    backend: str
    runtime: str
    runtime_version: str
    threads: int | None = None
    cpu: str | None = None
    clock_mhz: float | None = None
    agent_version: str
    extra: dict[str, Any] = Field(default_factory=dict)


class Measurement(BaseModel):
    """One measurement of one model on one device, as uploaded."""

    model_id: str
    device: str
    idempotency_key: str = Field(min_length=1, max_length=128)
    measurement_kind: MeasurementKind
    latency_ms: LatencyStats | None = None
    energy_mj: float | None = None
    peak_memory_bytes: int | None = None
    flash_bytes: int | None = None
    environment: Environment
    measured_at: datetime | None = None

    @model_validator(mode="after")
    def _has_a_value(self) -> Measurement:
        if self.latency_ms is None and self.energy_mj is None and self.peak_memory_bytes is None:
            raise ValueError("a measurement needs latency_ms, energy_mj or peak_memory_bytes")
        return self


class DeviceIn(BaseModel):
    """Body of ``POST /devices``."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    kind: DeviceKind
    runtime: str
    simulated: bool
    hardware: dict[str, Any] = Field(default_factory=dict)


class Job(BaseModel):
    """A measurement job as the service returns it."""

    model_config = ConfigDict(extra="ignore")

    id: int
    device: str
    model_id: str
    status: str
    attempts: int = 0
    priority: int = 0
    lease_expires_at: datetime | None = None
    reason: str | None = None
