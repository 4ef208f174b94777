"""Predictor versions and training requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.models import PredictorVersion, TrainRequest, utcnow


def list_versions(session: Session) -> Sequence[PredictorVersion]:
    """All predictor versions, newest first."""
    return session.scalars(select(PredictorVersion).order_by(PredictorVersion.id.desc())).all()


def get(session: Session, version: str) -> PredictorVersion:
    """The predictor version ``version``.

    Raises:
        NotFound: no such version.
    """
    row = session.scalar(select(PredictorVersion).where(PredictorVersion.version == version))
    if row is None:
        raise NotFound(f"predictor version {version!r} does not exist", field="version")
    return row


def active(session: Session) -> PredictorVersion | None:
    """The active version, if any."""
    query = select(PredictorVersion).where(PredictorVersion.status == "active")
    return session.scalar(query.order_by(PredictorVersion.activated_at.desc()).limit(1))


def register(
    session: Session, version: str, artifact_path: str, metrics: dict[str, Any]
) -> PredictorVersion:
    """Record a trained artifact as a candidate version."""
    row = PredictorVersion(
        version=version, artifact_path=artifact_path, metrics=metrics, status="candidate"
    )
    session.add(row)
    session.flush()
    return row


def activate(session: Session, version: str) -> PredictorVersion:
    """Make ``version`` the active one (the previous active version is retired).

    Raises:
        NotFound: no such version.
    """
    row = get(session, version)
    session.execute(
        update(PredictorVersion)
        .where(PredictorVersion.status == "active", PredictorVersion.id != row.id)
        .values(status="retired")
    )
    row.status = "active"
    row.activated_at = utcnow()
    return row


def create_train_request(session: Session, params: dict[str, Any]) -> TrainRequest:
    """Record a training request (queued)."""
    row = TrainRequest(status="queued", params=params)
    session.add(row)
    session.flush()
    return row


def get_train_request(session: Session, request_id: int) -> TrainRequest:
    """A training request.

    Raises:
        NotFound: no such request.
    """
    row = session.get(TrainRequest, request_id)
    if row is None:
        raise NotFound(f"training request {request_id} does not exist", field="id")
    return row


def finish_train_request(
    session: Session, request_id: int, *, version: str | None, error: str | None
) -> None:
    """Mark a training request done (with its version) or failed (with the error)."""
    row = get_train_request(session, request_id)
    row.status = "failed" if error else "done"
    row.version = version
    row.error = error
    row.finished_at = utcnow()


def claim_train_request(session: Session, request_id: int) -> bool:
    """Move a queued training request to running; False when someone else claimed it first."""
    result = session.execute(
        update(TrainRequest)
        .where(TrainRequest.id == request_id, TrainRequest.status == "queued")
        .values(status="running")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_oldest_train_request(session: Session) -> tuple[int, dict[str, Any]] | None:
    """Mark the oldest queued training request running and return it (None: none queued).

    The conditional update (queued -> running) is what keeps two trainers off one request.
    """
    row = session.scalar(
        select(TrainRequest).where(TrainRequest.status == "queued").order_by(TrainRequest.id)
    )
    if row is None:
        return None
    claimed = session.execute(
        update(TrainRequest)
        .where(TrainRequest.id == row.id, TrainRequest.status == "queued")
        .values(status="running")
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return row.id, dict(row.params)


def running_train_requests(session: Session) -> Sequence[TrainRequest]:
    """Training requests in state ``running``."""
    return session.scalars(select(TrainRequest).where(TrainRequest.status == "running")).all()


def newest_trained_measurement_id(session: Session) -> int:
    """The newest measurement id any version was trained with (0 when none was)."""
    versions = session.scalars(select(PredictorVersion)).all()
    ids = [int(v.metrics.get("max_measurement_id", 0) or 0) for v in versions]
    return max(ids, default=0)
