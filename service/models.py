"""SQLAlchemy tables of the service (the Alembic migrations in ``migrations/`` create them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OPEN_JOB = "status IN ('queued', 'leased')"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migration names)."""

    metadata = MetaData(naming_convention=NAMING)


def _choice(column: str, choices: tuple[str, ...]) -> CheckConstraint:
    values = ", ".join(f"'{c}'" for c in choices)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_choice")


DEVICE_KINDS = ("mcu", "phone", "npu", "cpu", "gpu")
JOB_STATUSES = ("queued", "leased", "done", "failed")
PREDICTOR_STATUSES = ("candidate", "active", "retired")
TRAIN_STATUSES = ("queued", "running", "done", "failed")
SCOPES = ("admin", "client", "agent")
MEASUREMENT_KINDS = ("measured", "simulated")


class Device(Base):
    """A target device (real or simulated) that agents measure on."""

    __tablename__ = "devices"
    __table_args__ = (_choice("kind", DEVICE_KINDS),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    runtime: Mapped[str] = mapped_column(String(128))
    simulated: Mapped[bool] = mapped_column(Boolean)
    hardware: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Model(Base):
    """An uploaded ONNX model, content-addressed by the sha256 of its bytes.

    ``fingerprint`` identifies the network rather than the upload
    (:func:`predictor.ir.fingerprint.graph_fingerprint`): every upload of the same network, and
    the spec it was exported from, share it.
    """

    __tablename__ = "models"
    __table_args__ = (Index("ix_models_fingerprint", "fingerprint"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    ir_json: Mapped[str] = mapped_column(Text)
    ir_version: Mapped[int] = mapped_column(Integer)
    macs: Mapped[int] = mapped_column(BigInteger)
    flops: Mapped[int] = mapped_column(BigInteger)
    params: Mapped[int] = mapped_column(BigInteger)
    model_bytes: Mapped[int] = mapped_column(BigInteger)
    peak_activation_bytes: Mapped[int] = mapped_column(BigInteger)
    num_nodes: Mapped[int] = mapped_column(Integer)
    unknown_ops: Mapped[list[str]] = mapped_column(JSON)
    family: Mapped[str | None] = mapped_column(String(64))
    space: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[Any | None] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Uploaded without its weights (external references); agents synthesize seeded weights.
    graph_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Job(Base):
    """A request to measure one model on one device (queued -> leased -> done/failed)."""

    __tablename__ = "jobs"
    __table_args__ = (
        _choice("status", JOB_STATUSES),
        Index("ix_jobs_lease_order", "device", "status", "priority", "id"),
        Index(
            "uq_jobs_open_device_model",
            "device",
            "model_id",
            unique=True,
            sqlite_where=text(OPEN_JOB),
            postgresql_where=text(OPEN_JOB),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device: Mapped[str] = mapped_column(ForeignKey("devices.name", ondelete="CASCADE"))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    measurement_id: Mapped[int | None] = mapped_column(
        ForeignKey("measurements.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _model_fingerprint(context: DefaultExecutionContext) -> str | None:
    """The measured model's network fingerprint, read when the measurement is inserted."""
    model_id = context.get_current_parameters().get("model_id")
    query = text("SELECT fingerprint FROM models WHERE id = :id")
    value = context.connection.execute(query, {"id": model_id}).scalar()
    return None if value is None else str(value)


class Measurement(Base):
    """Statistics of one benchmark run of a model on a device.

    ``fingerprint`` copies the model's (set on insert): the pairing query looks a network's
    measurements up through (device, fingerprint) as it did through (device, model_id); going
    through the models table instead cost 1.4x on PostgreSQL (benchmarks/pairing.py).
    """

    __tablename__ = "measurements"
    __table_args__ = (
        _choice("measurement_kind", MEASUREMENT_KINDS),
        Index("ix_measurements_device_model", "device", "model_id"),
        Index("ix_measurements_device_fingerprint", "device", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(ForeignKey("devices.name", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    measurement_kind: Mapped[str] = mapped_column(String(16))
    n_runs: Mapped[int | None] = mapped_column(Integer)
    warmup_runs: Mapped[int | None] = mapped_column(Integer)
    latency_median_ms: Mapped[float | None] = mapped_column(Float)
    latency_mean_ms: Mapped[float | None] = mapped_column(Float)
    latency_std_ms: Mapped[float | None] = mapped_column(Float)
    latency_p10_ms: Mapped[float | None] = mapped_column(Float)
    latency_p90_ms: Mapped[float | None] = mapped_column(Float)
    raw_samples_ms: Mapped[list[float] | None] = mapped_column(JSON)
    energy_mj: Mapped[float | None] = mapped_column(Float)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    flash_bytes: Mapped[int | None] = mapped_column(BigInteger)
    backend: Mapped[str] = mapped_column(String(64))
    runtime: Mapped[str] = mapped_column(String(64))
    runtime_version: Mapped[str] = mapped_column(String(64))
    threads: Mapped[int | None] = mapped_column(Integer)
    cpu: Mapped[str | None] = mapped_column(String(256))
    clock_mhz: Mapped[float | None] = mapped_column(Float)
    agent_version: Mapped[str] = mapped_column(String(64))
    environment_extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=_model_fingerprint)


class PredictorVersion(Base):
    """A trained predictor artifact and its lifecycle status."""

    __tablename__ = "predictor_versions"
    __table_args__ = (_choice("status", PREDICTOR_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(128), unique=True)
    artifact_path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrainRequest(Base):
    """A request to train a new predictor version (done by a trainer)."""

    __tablename__ = "train_requests"
    __table_args__ = (_choice("status", TRAIN_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


CHECK_KINDS = ("audit", "doubt")


class PredictionLog(Base):
    """One served prediction (kept to measure the error against later measurements).

    ``fingerprint`` is the network's (model or spec), so the prediction pairs with the first
    later measurement of any upload of that network; ``check_kind`` says why a measurement was
    queued for it: ``audit`` (drawn at random, :mod:`service.audit`), ``doubt`` (its interval
    was too wide) or NULL (none).
    """

    __tablename__ = "prediction_log"
    __table_args__ = (
        _choice("check_kind", CHECK_KINDS),
        Index("ix_prediction_log_device_model", "device", "model_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    model_id: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str] = mapped_column(String(64))
    predictor_version: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(32))
    mean: Mapped[float] = mapped_column(Float)
    std: Mapped[float] = mapped_column(Float)
    lo: Mapped[float] = mapped_column(Float)
    hi: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    check_kind: Mapped[str | None] = mapped_column(String(8))


class Token(Base):
    """An API token; only the sha256 of the secret is stored."""

    __tablename__ = "tokens"
    __table_args__ = (
        _choice("scope", SCOPES),
        CheckConstraint("scope <> 'agent' OR device IS NOT NULL", name="agent_has_device"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    device: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
