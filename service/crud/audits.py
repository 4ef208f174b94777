"""Queries behind audit sampling (:mod:`service.audit`)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.models import Job, Measurement, Model


def network_checked(session: Session, device: str, fingerprint: str) -> bool:
    """Whether a model with ``fingerprint`` is measured, or has an open job, on ``device``."""
    same = select(Model.id).where(Model.fingerprint == fingerprint)
    measured = exists().where(Measurement.device == device, Measurement.model_id.in_(same))
    queued = exists().where(
        Job.device == device, Job.model_id.in_(same), Job.status.in_(("queued", "leased"))
    )
    return bool(session.scalar(select(measured | queued)))
