"""Measurement queries: idempotent insert, listing, per-device training samples."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.models import Measurement
from service.schemas import Environment, LatencyStats, MeasurementIn, MeasurementOut


def get(session: Session, measurement_id: int) -> Measurement:
    """The measurement ``measurement_id``.

    Raises:
        NotFound: no such measurement.
    """
    row = session.get(Measurement, measurement_id)
    if row is None:
        raise NotFound(f"measurement {measurement_id} does not exist", field="id")
    return row


def by_key(session: Session, key: str) -> Measurement | None:
    """The measurement stored under ``idempotency_key``, if any."""
    return session.scalar(select(Measurement).where(Measurement.idempotency_key == key))


def _row(body: MeasurementIn, job_id: int | None) -> Measurement:
    lat = body.latency_ms
    env = body.environment
    return Measurement(
        idempotency_key=body.idempotency_key,
        model_id=body.model_id,
        device=body.device,
        job_id=job_id,
        measurement_kind=body.measurement_kind,
        n_runs=lat.n_runs if lat else None,
        warmup_runs=lat.warmup_runs if lat else None,
        latency_median_ms=lat.median if lat else None,
        latency_mean_ms=lat.mean if lat else None,
        latency_std_ms=lat.std if lat else None,
        latency_p10_ms=lat.p10 if lat else None,
        latency_p90_ms=lat.p90 if lat else None,
        raw_samples_ms=lat.raw_samples_ms if lat else None,
        energy_mj=body.energy_mj,
        peak_memory_bytes=body.peak_memory_bytes,
        flash_bytes=body.flash_bytes,
        backend=env.backend,
        runtime=env.runtime,
        runtime_version=env.runtime_version,
        threads=env.threads,
        cpu=env.cpu,
        clock_mhz=env.clock_mhz,
        agent_version=env.agent_version,
        environment_extra=env.extra,
        measured_at=body.measured_at,
    )


def create(
    session: Session, body: MeasurementIn, job_id: int | None = None
) -> tuple[Measurement, bool]:
    """Store a measurement once per idempotency key; returns (row, duplicate)."""
    existing = by_key(session, body.idempotency_key)
    if existing is not None:
        return existing, True
    row = _row(body, job_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent retry of the same upload won the race
        again = by_key(session, body.idempotency_key)
        if again is None:
            raise
        return again, True
    return row, False


def to_out(m: Measurement) -> MeasurementOut:
    """The API shape of a stored measurement."""
    latency = None
    if m.latency_median_ms is not None:
        latency = LatencyStats(
            median=m.latency_median_ms,
            mean=m.latency_mean_ms or 0.0,
            std=m.latency_std_ms or 0.0,
            p10=m.latency_p10_ms or 0.0,
            p90=m.latency_p90_ms or 0.0,
            n_runs=m.n_runs or 1,
            warmup_runs=m.warmup_runs or 0,
            raw_samples_ms=m.raw_samples_ms,
        )
    env = Environment(
        backend=m.backend,
        runtime=m.runtime,
        runtime_version=m.runtime_version,
        threads=m.threads,
        cpu=m.cpu,
        clock_mhz=m.clock_mhz,
        agent_version=m.agent_version,
        extra=m.environment_extra,
    )
    return MeasurementOut(
        id=m.id,
        job_id=m.job_id,
        model_id=m.model_id,
        device=m.device,
        idempotency_key=m.idempotency_key,
        measurement_kind=m.measurement_kind,  # type: ignore[arg-type]
        latency_ms=latency,
        energy_mj=m.energy_mj,
        peak_memory_bytes=m.peak_memory_bytes,
        flash_bytes=m.flash_bytes,
        environment=env,
        measured_at=m.measured_at,
        created_at=m.created_at,
    )


def list_page(
    session: Session, device: str | None, model_id: str | None, limit: int, offset: int
) -> Sequence[Measurement]:
    """Measurements, newest first, filtered and paginated."""
    query = select(Measurement).order_by(Measurement.id.desc()).limit(limit).offset(offset)
    if device is not None:
        query = query.where(Measurement.device == device)
    if model_id is not None:
        query = query.where(Measurement.model_id == model_id)
    return session.scalars(query).all()


def device_stamp(session: Session, device: str) -> tuple[int, int]:
    """(max id, count) of the device's measurements: changes whenever one is added."""
    query = select(func.coalesce(func.max(Measurement.id), 0), func.count(Measurement.id))
    row = session.execute(query.where(Measurement.device == device)).one()
    return int(row[0]), int(row[1])


def device_targets(
    session: Session, device: str
) -> list[tuple[str, float | None, float | None, int | None]]:
    """(model_id, latency median ms, energy mJ, peak memory bytes) of every measurement."""
    query = (
        select(
            Measurement.model_id,
            Measurement.latency_median_ms,
            Measurement.energy_mj,
            Measurement.peak_memory_bytes,
        )
        .where(Measurement.device == device)
        .order_by(Measurement.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(query)]


def all_targets(
    session: Session,
) -> list[tuple[str, str, float | None, float | None, int | None]]:
    """(device, model_id, latency, energy, memory) of every measurement (for training)."""
    query = select(
        Measurement.device,
        Measurement.model_id,
        Measurement.latency_median_ms,
        Measurement.energy_mj,
        Measurement.peak_memory_bytes,
    ).order_by(Measurement.id)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(query)]


def newest_id(session: Session) -> int:
    """The newest measurement id (0 when there is none)."""
    return int(session.scalar(select(func.max(Measurement.id))) or 0)


def counts_per_device(session: Session) -> list[int]:
    """How many measurements each device has (one count per device with any)."""
    query = select(func.count()).select_from(Measurement).group_by(Measurement.device)
    return [int(n) for n in session.execute(query).scalars()]
