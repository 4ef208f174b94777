"""Pydantic request and response bodies of the ``/api/v1`` API (the wire contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from predictor.api import Metric

DeviceKind = Literal["mcu", "phone", "npu", "cpu", "gpu"]
JobStatus = Literal["queued", "leased", "done", "failed"]
MeasurementKind = Literal["measured", "simulated"]
PredictorStatus = Literal["candidate", "active", "retired"]
Scope = Literal["admin", "client", "agent"]

DEFAULT_METRICS: tuple[Metric, ...] = ("latency_ms",)
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
DeviceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
ModelId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Strict(BaseModel):
    """Request bodies reject unknown fields (a typo is an error, not a silent default).

    Their booleans are ``StrictBool``: 0, 1 or "yes" are refused as the schema says, not coerced.
    """

    model_config = ConfigDict(extra="forbid")


class Row(BaseModel):
    """Response bodies built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class DeviceIn(Strict):
    """Register or update a device."""

    name: DeviceName
    kind: DeviceKind
    runtime: str = Field(min_length=1, max_length=128)
    simulated: StrictBool = False
    hardware: dict[str, Any] = Field(default_factory=dict)


class DeviceOut(Row):
    """A device."""

    name: str
    kind: DeviceKind
    runtime: str
    simulated: bool
    hardware: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_seen_at: datetime | None = None


class ModelOut(Row):
    """An uploaded model with its static features."""

    id: str
    size_bytes: int
    ir_version: int
    macs: int
    flops: int
    params: int
    model_bytes: int
    peak_activation_bytes: int
    num_nodes: int
    unknown_ops: list[str]
    family: str | None = None
    space: str | None = None
    spec: Any | None = None
    created_at: datetime
    #: Uploaded without weights: static features are exact (from shapes); measurements of it
    #: run on seeded random weights, recorded in each measurement's ``extra``.
    graph_only: bool = False


class LatencyStats(Strict):
    """Per-run latency statistics of one measurement."""

    median: float = Field(ge=0)
    mean: float = Field(ge=0)
    std: float = Field(ge=0)
    p10: float = Field(ge=0)
    p90: float = Field(ge=0)
    n_runs: int = Field(ge=1, le=INT32_MAX)
    warmup_runs: int = Field(ge=0, le=INT32_MAX)
    raw_samples_ms: list[float] | None = Field(default=None, max_length=100_000)


class Environment(Strict):
    """Where and how a measurement was taken."""

    backend: str = Field(min_length=1, max_length=64)
    runtime: str = Field(min_length=1, max_length=64)
    runtime_version: str = Field(max_length=64)
    threads: int | None = Field(default=None, ge=1, le=INT32_MAX)
    cpu: str | None = Field(default=None, max_length=256)
    clock_mhz: float | None = Field(default=None, ge=0)
    agent_version: str = Field(max_length=64)
    extra: dict[str, Any] = Field(default_factory=dict)


class MeasurementIn(Strict):
    """A measurement uploaded by an agent (alone or as a job completion)."""

    model_id: ModelId
    device: DeviceName
    idempotency_key: str = Field(min_length=1, max_length=128)
    measurement_kind: MeasurementKind
    latency_ms: LatencyStats | None = None
    energy_mj: float | None = Field(default=None, ge=0)
    peak_memory_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    flash_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    environment: Environment
    measured_at: datetime | None = None

    @model_validator(mode="after")
    def _has_a_target(self) -> MeasurementIn:
        if self.latency_ms is None and self.energy_mj is None and self.peak_memory_bytes is None:
            raise ValueError("one of latency_ms, energy_mj, peak_memory_bytes must be present")
        return self


class MeasurementOut(BaseModel):
    """A stored measurement (same shape as the upload, plus id and job)."""

    id: int
    job_id: int | None
    model_id: str
    device: str
    idempotency_key: str
    measurement_kind: MeasurementKind
    latency_ms: LatencyStats | None
    energy_mj: float | None
    peak_memory_bytes: int | None
    flash_bytes: int | None
    environment: Environment
    measured_at: datetime | None
    created_at: datetime


class MeasurementCreated(BaseModel):
    """Answer to a measurement upload."""

    id: int
    duplicate: bool


class JobsIn(Strict):
    """Enqueue measurement jobs."""

    device: DeviceName
    model_ids: list[ModelId] = Field(min_length=1, max_length=1000)
    priority: int = Field(default=0, ge=-INT32_MAX, le=INT32_MAX)


class JobOut(Row):
    """A job."""

    id: int
    device: str
    model_id: str
    status: JobStatus
    attempts: int
    max_attempts: int
    priority: int
    lease_expires_at: datetime | None
    reason: str | None
    measurement_id: int | None = None
    created_at: datetime
    updated_at: datetime


class JobDetail(JobOut):
    """A job with its measurement once done."""

    measurement: MeasurementOut | None = None


class JobList(BaseModel):
    """A list of jobs."""

    jobs: list[JobOut]


class LeaseIn(Strict):
    """Lease queued jobs of one device."""

    device: DeviceName
    max_jobs: int = Field(default=1, ge=1, le=64)
    lease_seconds: int | None = Field(default=None, ge=1, le=86_400)


class HeartbeatIn(Strict):
    """Extend a lease (empty body)."""


class FailIn(Strict):
    """Report a failed job."""

    reason: str = Field(min_length=1, max_length=4000)
    retryable: StrictBool = False


class CompleteOut(BaseModel):
    """Answer to a job completion."""

    job: JobOut
    measurement_id: int


#: Relative 90 % interval width ``(hi - lo) / mean`` above which a prediction is doubtful
#: (``on_uncertain: measure`` queues a job; the planner measures these first). Chosen on
#: leave-one-family-out validation of the novelty-aware intervals (docs/BENCHMARKS.md,
#: "Novelty-aware intervals"); it was 0.5.
DEFAULT_UNCERTAINTY_THRESHOLD = 1.2


class SpecIn(Strict):
    """A search-space architecture to predict without an ONNX file."""

    space: str = Field(min_length=1, max_length=64)
    arch: Any


class PredictionsIn(Strict):
    """Batch prediction request for one device."""

    device: DeviceName
    model_ids: list[ModelId] | None = None
    specs: list[SpecIn] | None = None
    metrics: list[Metric] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1)
    on_uncertain: Literal["ignore", "measure"] = "ignore"
    uncertainty_threshold: float = Field(default=DEFAULT_UNCERTAINTY_THRESHOLD, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> PredictionsIn:
        if (self.model_ids is None) == (self.specs is None):
            raise ValueError("give exactly one of model_ids or specs")
        if not (self.model_ids or self.specs):
            raise ValueError("model_ids/specs must not be empty")
        return self


class EstimateOut(BaseModel):
    """Mean, standard deviation and 90% interval of one predicted metric."""

    mean: float
    std: float
    lo: float
    hi: float


class PredictionOut(BaseModel):
    """Prediction for one model or spec."""

    model_id: str | None = None
    spec: SpecIn | None = None
    metrics: dict[str, EstimateOut]
    job_id: int | None = None


class PredictionsOut(BaseModel):
    """Batch prediction answer."""

    predictor_version: str
    device: str
    low_confidence: bool
    predictions: list[PredictionOut]


class GenerationIn(Strict):
    """Generation-time request: an ``llm`` architecture, a prompt length and new tokens."""

    device: DeviceName
    arch: dict[str, Any] = Field(description="An llm spec; phase, seq_len, context are set here.")
    prompt_tokens: int = Field(description="Prompt length P (the prefill's seq_len).")
    new_tokens: int = Field(description="Tokens to generate N (decode steps).")
    points: int = Field(default=6, ge=2, le=32, description="Contexts decode is predicted at.")


class TimeEstimateOut(BaseModel):
    """Mean and 90 % interval of a time in milliseconds."""

    mean: float
    lo: float
    hi: float


class GenerationOut(BaseModel):
    """Time to first token (the prefill) and total time (prefill + N decode steps)."""

    predictor_version: str
    device: str
    low_confidence: bool
    prompt_tokens: int
    new_tokens: int
    time_to_first_token_ms: TimeEstimateOut
    total_ms: TimeEstimateOut
    decode_contexts: list[int]
    decode_step_ms: list[TimeEstimateOut]


class PredictorOut(Row):
    """A predictor version."""

    version: str
    artifact_path: str | None = Field(
        default=None, description="Artifact directory on the server (admin tokens only)."
    )
    metrics: dict[str, Any]
    status: PredictorStatus
    created_at: datetime
    activated_at: datetime | None


class TrainIn(Strict):
    """Request training of a new predictor version on all measurements."""

    activate: StrictBool = Field(
        default=False,
        description="Activate the version once trained if it beats the active one on the "
        "held-out newest measurements (the worker's rule).",
    )
    version: str | None = Field(default=None, min_length=1, max_length=128)
    quick: StrictBool = Field(default=False, description="Tiny model, few epochs (tests, demos).")
    min_device_samples: int = Field(
        default=20, ge=1, le=INT32_MAX, description="Samples for a device head."
    )


class TrainRequestOut(Row):
    """A training request and its state."""

    id: int
    status: Literal["queued", "running", "done", "failed"]
    params: dict[str, Any]
    version: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ErrorReportRow(BaseModel):
    """Prediction error of one device, predictor version, metric and day."""

    device: str
    predictor_version: str
    metric: str
    day: str
    count: int
    mape: float
    acc_10: float
    #: Share (0-1) of the measurements inside the prediction's logged 90% interval.
    coverage_90: float
    spearman: float | None
    #: Pairs whose prediction was drawn for audit (service.audit): an unbiased sample.
    audited_count: int = 0
    audited_mape: float | None = None
    #: 95% Student-t interval on ``audited_mape`` (None below two audited pairs).
    audited_mape_ci95_lo: float | None = None
    audited_mape_ci95_hi: float | None = None
    #: Pairs whose prediction was measured because its interval was wide (biased to the hard).
    doubt_count: int = 0
    doubt_mape: float | None = None


class ErrorReport(BaseModel):
    """Prediction error against measurements taken after each prediction."""

    rows: list[ErrorReportRow]
