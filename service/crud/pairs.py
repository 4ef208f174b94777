"""Logged predictions paired with the measurement that checks them (error report, dashboard).

A logged prediction is paired with the FIRST measurement of the same model on the same device
stored after the prediction that has the predicted metric; predictions never followed by such a
measurement are left out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Subquery, cast, func, select
from sqlalchemy.orm import aliased

from service.models import Measurement, Model, PredictionLog

#: Measurement column holding the measured value of each predicted metric.
METRIC_COLUMNS: dict[str, str] = {
    "latency_ms": "latency_median_ms",
    "energy_mj": "energy_mj",
    "peak_memory_bytes": "peak_memory_bytes",
}


def pairs(
    metric: str,
    device: str | None = None,
    version: str | None = None,
    since: datetime | None = None,
) -> Subquery:
    """Logged predictions of ``metric`` joined to the measurement that checks them.

    Columns: ``device``, ``model_id``, ``version``, ``day`` (UTC date), ``log_id``,
    ``predicted``, ``lo`` and ``hi`` (its 90% interval), ``actual`` and ``family``
    (``'unknown'`` when the model has none).

    Raises:
        ValueError: ``metric`` is not one of :data:`METRIC_COLUMNS`.
    """
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRIC_COLUMNS)}")
    column = METRIC_COLUMNS[metric]
    logged = _logged(column, metric, device, version, since)
    actual = cast(getattr(Measurement, column), Float)
    query = (
        select(
            logged.c.device,
            logged.c.model_id,
            logged.c.version,
            func.date(logged.c.created_at).label("day"),
            logged.c.log_id,
            logged.c.predicted,
            logged.c.lo,
            logged.c.hi,
            actual.label("actual"),
            func.coalesce(Model.family, "unknown").label("family"),
        )
        .join(Measurement, Measurement.id == logged.c.measurement_id)
        .outerjoin(Model, Model.id == logged.c.model_id)
        .where(actual > 0)
    )
    return query.subquery()


def _logged(
    column: str,
    metric: str,
    device: str | None,
    version: str | None,
    since: datetime | None,
) -> Subquery:
    """Logged predictions with the id of the first later measurement, computed once per row.

    A derived table (materialised on PostgreSQL by ``OFFSET 0``) so the correlated lookup is
    not evaluated again inside the join condition.
    """
    later = aliased(Measurement)
    first_after = (
        select(func.min(later.id))
        .where(
            later.model_id == PredictionLog.model_id,
            later.device == PredictionLog.device,
            later.created_at > PredictionLog.created_at,
            getattr(later, column).is_not(None),
        )
        .correlate(PredictionLog)
        .scalar_subquery()
    )
    query = select(
        PredictionLog.device.label("device"),
        PredictionLog.model_id.label("model_id"),
        PredictionLog.predictor_version.label("version"),
        PredictionLog.created_at.label("created_at"),
        PredictionLog.id.label("log_id"),
        PredictionLog.mean.label("predicted"),
        PredictionLog.lo.label("lo"),
        PredictionLog.hi.label("hi"),
        first_after.label("measurement_id"),
    ).where(PredictionLog.metric == metric, PredictionLog.model_id.is_not(None))
    if device is not None:
        query = query.where(PredictionLog.device == device)
    if version is not None:
        query = query.where(PredictionLog.predictor_version == version)
    if since is not None:
        query = query.where(PredictionLog.created_at >= since)
    return query.offset(0).subquery("logged")
