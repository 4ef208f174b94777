"""The prediction log (every served prediction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.models import PredictionLog, utcnow


def log_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert prediction log rows (keys: model_id, spec, device, predictor_version,
    metric, mean, std, lo, hi; created_at defaults to now)."""
    if not rows:
        return
    now = utcnow()
    session.execute(insert(PredictionLog), [{"created_at": now, **row} for row in rows])
