"""SQL aggregates behind the dashboard's overview, jobs and model pages.

Counting and grouping happen in the database (``GROUP BY``), so a page costs a handful of
queries whatever the number of measurements; Python only formats the few aggregated rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.models import Device, Job, Measurement, Model, TrainRequest

#: A device whose agent was seen this recently (seconds) counts as online.
ONLINE_WINDOW_S = 120
#: Rows shown per job table (newest first).
JOB_ROWS = 100


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """One device with its agent status and row counts."""

    name: str
    kind: str
    runtime: str
    simulated: bool
    last_seen_at: datetime | None
    online: bool
    measurements: int
    queued: int
    leased: int


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def device_summaries(
    session: Session, now: datetime, only: str | None = None
) -> list[DeviceSummary]:
    """All devices (or just ``only``) by name, with measurement counts and open jobs."""
    measured = select(Measurement.device, func.count().label("n")).group_by(Measurement.device)
    open_jobs = (
        select(
            Job.device,
            _count_if(Job.status == "queued").label("queued"),
            _count_if(Job.status == "leased").label("leased"),
        )
        .where(Job.status.in_(("queued", "leased")))
        .group_by(Job.device)
    )
    devices = select(Device)
    if only is not None:
        measured = measured.where(Measurement.device == only)
        open_jobs = open_jobs.where(Job.device == only)
        devices = devices.where(Device.name == only)
    m, j = measured.subquery(), open_jobs.subquery()
    query = (
        devices.add_columns(
            func.coalesce(m.c.n, 0), func.coalesce(j.c.queued, 0), func.coalesce(j.c.leased, 0)
        )
        .outerjoin(m, m.c.device == Device.name)
        .outerjoin(j, j.c.device == Device.name)
        .order_by(Device.name)
    )
    horizon = now - timedelta(seconds=ONLINE_WINDOW_S)
    return [
        DeviceSummary(
            name=d.name,
            kind=d.kind,
            runtime=d.runtime,
            simulated=d.simulated,
            last_seen_at=d.last_seen_at,
            online=d.last_seen_at is not None and d.last_seen_at >= horizon,
            measurements=int(n),
            queued=int(q),
            leased=int(leased),
        )
        for d, n, q, leased in session.execute(query)
    ]


def measurements_per_day(session: Session, now: datetime, days: int = 30) -> list[tuple[str, int]]:
    """(UTC day, number of measurements) for the last ``days`` days, oldest first."""
    when = func.coalesce(Measurement.measured_at, Measurement.created_at)
    day = func.date(when)
    query = (
        select(day, func.count())
        .where(when >= now - timedelta(days=days))
        .group_by(day)
        .order_by(day)
    )
    return [(str(d), int(n)) for d, n in session.execute(query)]


def job_counts(session: Session) -> dict[str, int]:
    """Number of jobs per status (every status present, zero when none)."""
    counts = dict.fromkeys(("queued", "leased", "done", "failed"), 0)
    for status, n in session.execute(select(Job.status, func.count()).group_by(Job.status)):
        counts[str(status)] = int(n)
    return counts


def jobs_with_status(session: Session, statuses: Sequence[str], limit: int = JOB_ROWS) -> list[Job]:
    """The newest ``limit`` jobs with one of ``statuses`` (most recently updated first)."""
    query = (
        select(Job)
        .where(Job.status.in_(tuple(statuses)))
        .order_by(Job.updated_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def failure_reasons(session: Session, limit: int = 20) -> list[tuple[str, int]]:
    """The most frequent failure reasons with their job counts."""
    reason = func.coalesce(Job.reason, "(no reason recorded)")
    query = (
        select(reason, func.count().label("n"))
        .where(Job.status == "failed")
        .group_by(reason)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(str(r), int(n)) for r, n in session.execute(query)]


def train_requests(session: Session, limit: int = 20) -> list[TrainRequest]:
    """The newest ``limit`` training requests."""
    query = select(TrainRequest).order_by(TrainRequest.id.desc()).limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class ModelMeasurement:
    """Latest measurement statistics of one model on one device."""

    device: str
    kind: str
    n: int
    latency_median_ms: float | None
    energy_mj: float | None
    peak_memory_bytes: int | None


def model_measurements(session: Session, model_id: str) -> list[ModelMeasurement]:
    """Per device: count and median-of-latest values of ``model_id``'s measurements."""
    latest = (
        select(
            Measurement.device, func.max(Measurement.id).label("last_id"), func.count().label("n")
        )
        .where(Measurement.model_id == model_id)
        .group_by(Measurement.device)
        .subquery()
    )
    query = (
        select(Measurement, latest.c.n)
        .join(latest, latest.c.last_id == Measurement.id)
        .order_by(Measurement.device)
    )
    return [
        ModelMeasurement(
            device=m.device,
            kind=m.measurement_kind,
            n=int(n),
            latency_median_ms=m.latency_median_ms,
            energy_mj=m.energy_mj,
            peak_memory_bytes=m.peak_memory_bytes,
        )
        for m, n in session.execute(query)
    ]


def op_costs(ir_json: str) -> list[tuple[str, int, int]]:
    """(op type, node count, FLOPs) per op type of a stored IR, most FLOPs first."""
    totals: dict[str, list[int]] = {}
    for node in json.loads(ir_json).get("nodes", ()):
        entry = totals.setdefault(str(node.get("op_type", "?")), [0, 0])
        entry[0] += 1
        entry[1] += int(node.get("flops", 0))
    return sorted(
        ((op, n, flops) for op, (n, flops) in totals.items()), key=lambda t: (-t[2], -t[1], t[0])
    )


def model_row(session: Session, model_id: str) -> Model | None:
    """The stored model ``model_id``, if any."""
    return session.get(Model, model_id)


def count_rows(session: Session, model: type[Any]) -> int:
    """Number of rows of a table (``model`` is a mapped class)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
