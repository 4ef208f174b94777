"""Measurement job queue: enqueue (deduplicated), lease, heartbeat, complete, fail.

Leasing locks the candidate rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
SQLite the caller runs it in a ``BEGIN IMMEDIATE`` transaction (one writer at a time), so two
agents never hold the same job, across processes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.errors import Conflict, NotFound, Unprocessable
from service.crud import measurements
from service.models import Device, Job, Measurement, utcnow
from service.schemas import JobStatus, MeasurementIn

OPEN_STATUSES = ("queued", "leased")


def get(session: Session, job_id: int) -> Job:
    """The job ``job_id``.

    Raises:
        NotFound: no such job.
    """
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist", field="id")
    return job


def list_jobs(
    session: Session, device: str | None, status: JobStatus | None, limit: int, offset: int
) -> Sequence[Job]:
    """Jobs, newest first, filtered by device and status."""
    query = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if device is not None:
        query = query.where(Job.device == device)
    if status is not None:
        query = query.where(Job.status == status)
    return session.scalars(query).all()


def open_job(session: Session, device: str, model_id: str) -> Job | None:
    """The queued or leased job of ``model_id`` on ``device``, if any."""
    query = select(Job).where(
        Job.device == device, Job.model_id == model_id, Job.status.in_(OPEN_STATUSES)
    )
    return session.scalar(query)


def enqueue_one(
    session: Session, device: str, model_id: str, priority: int, max_attempts: int
) -> Job:
    """Queue a job, or return the open one for the same device and model (priority raised)."""
    existing = open_job(session, device, model_id)
    if existing is None:
        job = Job(
            device=device,
            model_id=model_id,
            priority=priority,
            max_attempts=max_attempts,
            status="queued",
            attempts=0,
        )
        try:
            with session.begin_nested():
                session.add(job)
            return job
        except IntegrityError:  # a concurrent enqueue created it first
            existing = open_job(session, device, model_id)
            if existing is None:
                raise
    if priority > existing.priority:
        existing.priority = priority
        existing.updated_at = utcnow()
    return existing


def requeue_expired(session: Session, device: str) -> int:
    """Put the device's expired leases back in the queue (or fail them after max attempts)."""
    now = utcnow()
    query = (
        select(Job)
        .where(Job.device == device, Job.status == "leased", Job.lease_expires_at < now)
        .with_for_update(skip_locked=True)
    )
    expired = session.scalars(query).all()
    for job in expired:
        job.lease_expires_at = None
        job.leased_by = None
        job.updated_at = now
        if job.attempts >= job.max_attempts:
            job.status = "failed"
            job.reason = f"lease expired {job.attempts} times"
        else:
            job.status = "queued"
            job.reason = f"lease expired (attempt {job.attempts} of {job.max_attempts})"
    return len(expired)


def lease(
    session: Session, device: str, max_jobs: int, lease_seconds: int, leased_by: int
) -> list[Job]:
    """Lease up to ``max_jobs`` queued jobs of ``device``, highest priority first."""
    requeue_expired(session, device)
    now = utcnow()
    query = (
        select(Job)
        .where(Job.device == device, Job.status == "queued")
        .order_by(Job.priority.desc(), Job.id)
        .limit(max_jobs)
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(query))
    for job in jobs:
        job.status = "leased"
        job.attempts += 1
        job.lease_expires_at = now + timedelta(seconds=lease_seconds)
        job.leased_by = leased_by
        job.updated_at = now
    session.flush()
    return jobs


def _lock(session: Session, job_id: int) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None:
        raise NotFound(f"job {job_id} does not exist", field="id")
    return job


def heartbeat(session: Session, job_id: int, holder: int | None, lease_seconds: int) -> Job:
    """Extend the lease of a job held by token ``holder`` (None: any holder, for admins).

    The lease runs at least ``lease_seconds`` from now; a longer lease is never shortened.

    Raises:
        Conflict: the job is not leased (finished or requeued) or leased by someone else.
    """
    job = _lock(session, job_id)
    if job.status != "leased" or (holder is not None and job.leased_by != holder):
        raise Conflict(
            f"job {job_id} lease was lost (status {job.status!r}); drop it and lease again",
            code="lease_lost",
        )
    now = utcnow()
    extended = now + timedelta(seconds=lease_seconds)
    current = job.lease_expires_at
    job.lease_expires_at = extended if current is None or current < extended else current
    job.updated_at = now
    return job


def complete(session: Session, job_id: int, body: MeasurementIn) -> tuple[Job, Measurement]:
    """Store the job's measurement and mark it done; a retry returns the same measurement.

    Raises:
        Conflict: the job already finished otherwise, or the key belongs to another job.
        Unprocessable: ``model_id``/``device`` do not match the job.
    """
    job = _lock(session, job_id)
    for field in ("model_id", "device"):
        if getattr(body, field) != getattr(job, field):
            raise Unprocessable(
                f"{field} {getattr(body, field)!r} does not match job {job_id} "
                f"({getattr(job, field)!r})",
                field=field,
            )
    previous = measurements.by_key(session, body.idempotency_key)
    if previous is not None:
        if previous.job_id != job.id:
            raise Conflict(
                f"idempotency_key already used by measurement {previous.id}",
                field="idempotency_key",
            )
        return job, previous
    if job.status in ("done", "failed"):
        raise Conflict(f"job {job_id} is already {job.status}", code="job_finished")
    row, _ = measurements.create(session, body, job_id=job.id)
    job.status = "done"
    job.measurement_id = row.id
    job.lease_expires_at = None
    job.reason = None
    job.updated_at = utcnow()
    return job, row


def fail(
    session: Session, job_id: int, reason: str, retryable: bool, holder: int | None = None
) -> Job:
    """Record a failed attempt: back to the queue if retryable and attempts remain.

    ``holder`` (None: any, for admins) must hold the lease: an agent whose lease expired and
    was given to another agent cannot requeue or fail that agent's attempt.

    Raises:
        Conflict: the job is not leased, or leased by someone else.
    """
    job = _lock(session, job_id)
    if job.status != "leased" or (holder is not None and job.leased_by != holder):
        raise Conflict(
            f"job {job_id} is not leased by this agent (status {job.status!r})", code="lease_lost"
        )
    job.lease_expires_at = None
    job.leased_by = None
    job.reason = reason
    job.updated_at = utcnow()
    job.status = "queued" if retryable and job.attempts < job.max_attempts else "failed"
    return job


def queued_counts(session: Session) -> dict[str, int]:
    """Device -> queued jobs, for every known device (zero included)."""
    counts = {name: 0 for name in session.scalars(select(Device.name))}
    rows = session.execute(
        select(Job.device, func.count()).where(Job.status == "queued").group_by(Job.device)
    )
    counts.update({r[0]: int(r[1]) for r in rows})
    return counts
