"""Logged predictions paired with the measurement that checks them (error report, dashboard).

A logged prediction is paired with the FIRST measurement of the same network on the same device
stored after the prediction that has the predicted metric; predictions never followed by such a
measurement are left out. "The same network" is the same graph fingerprint
(:func:`predictor.ir.fingerprint.graph_fingerprint`, stored on models, measurements and log
rows), so a
prediction made from a spec, or from one upload of a network, pairs with the measurement of the
ONNX exported from that spec or of another upload of it.
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

    Columns: ``device``, ``model_id`` (the measured model), ``version``, ``day`` (UTC date),
    ``log_id``, ``predicted``, ``lo`` and ``hi`` (its 90% interval), ``actual``, ``family``
    (``'unknown'`` when the model has none) and ``check_kind`` (``'audit'``, ``'doubt'`` or
    ``'none'``: why a measurement was queued for the prediction).

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
            Measurement.model_id.label("model_id"),
            logged.c.version,
            func.date(logged.c.created_at).label("day"),
            logged.c.log_id,
            logged.c.predicted,
            logged.c.lo,
            logged.c.hi,
            actual.label("actual"),
            func.coalesce(Model.family, "unknown").label("family"),
            func.coalesce(logged.c.check_kind, "none").label("check_kind"),
        )
        .join(Measurement, Measurement.id == logged.c.measurement_id)
        .outerjoin(Model, Model.id == Measurement.model_id)
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
            later.fingerprint == PredictionLog.fingerprint,
            later.device == PredictionLog.device,
            later.created_at > PredictionLog.created_at,
            getattr(later, column).is_not(None),
        )
        .correlate(PredictionLog)
        .scalar_subquery()
    )
    query = select(
        PredictionLog.device.label("device"),
        PredictionLog.predictor_version.label("version"),
        PredictionLog.created_at.label("created_at"),
        PredictionLog.id.label("log_id"),
        PredictionLog.mean.label("predicted"),
        PredictionLog.lo.label("lo"),
        PredictionLog.hi.label("hi"),
        PredictionLog.check_kind.label("check_kind"),
        first_after.label("measurement_id"),
    ).where(PredictionLog.metric == metric, PredictionLog.fingerprint.is_not(None))
    if device is not None:
        query = query.where(PredictionLog.device == device)
    if version is not None:
        query = query.where(PredictionLog.predictor_version == version)
    if since is not None:
        query = query.where(PredictionLog.created_at >= since)
    return query.offset(0).subquery("logged")
