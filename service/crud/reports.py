"""Prediction error report: logged predictions against measurements taken afterwards.

Each logged prediction is paired with the FIRST measurement of the same model on the same
device stored after the prediction that has the predicted metric. MAPE, acc_10, the share
inside the logged 90% interval and counts are aggregated in SQL; Spearman's rank correlation
is computed from the pairs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sqlalchemy import Float, Select, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from service.models import Measurement, PredictionLog
from service.schemas import ErrorReportRow

GroupKey = tuple[str, str, str, str]


def _actual(m: Any) -> Any:
    return case(
        (PredictionLog.metric == "latency_ms", m.latency_median_ms),
        (PredictionLog.metric == "energy_mj", m.energy_mj),
        else_=cast(m.peak_memory_bytes, Float),
    )


def _pairs(device: str | None, since: datetime | None) -> Select[Any]:
    later = aliased(Measurement)
    first_after = (
        select(func.min(later.id))
        .where(
            later.model_id == PredictionLog.model_id,
            later.device == PredictionLog.device,
            later.created_at > PredictionLog.created_at,
            _actual(later).is_not(None),
        )
        .correlate(PredictionLog)
        .scalar_subquery()
    )
    actual = _actual(Measurement)
    query = (
        select(
            PredictionLog.device.label("device"),
            PredictionLog.predictor_version.label("version"),
            PredictionLog.metric.label("metric"),
            func.date(PredictionLog.created_at).label("day"),
            PredictionLog.mean.label("predicted"),
            PredictionLog.lo.label("lo"),
            PredictionLog.hi.label("hi"),
            actual.label("actual"),
        )
        .join(Measurement, Measurement.id == first_after)
        .where(PredictionLog.model_id.is_not(None), actual > 0)
    )
    if device is not None:
        query = query.where(PredictionLog.device == device)
    if since is not None:
        query = query.where(PredictionLog.created_at >= since)
    return query


def spearman(predicted: list[float], actual: list[float]) -> float | None:
    """Spearman's rank correlation (ties averaged); None when undefined."""
    if len(predicted) < 2:
        return None
    rp, ra = rankdata(predicted), rankdata(actual)
    if np.ptp(rp) == 0 or np.ptp(ra) == 0:
        return None
    return float(np.corrcoef(rp, ra)[0, 1])


def error_report(
    session: Session, device: str | None = None, since: datetime | None = None
) -> list[ErrorReportRow]:
    """Error per device, predictor version, metric and day (UTC)."""
    pairs = _pairs(device, since).subquery()
    rel_err = func.abs(pairs.c.predicted - pairs.c.actual) / pairs.c.actual
    keys = (pairs.c.device, pairs.c.version, pairs.c.metric, pairs.c.day)
    agg = select(
        *keys,
        func.count().label("n"),
        func.avg(rel_err).label("mape"),
        func.avg(case((rel_err <= 0.1, 1.0), else_=0.0)).label("acc_10"),
        func.avg(case((pairs.c.actual.between(pairs.c.lo, pairs.c.hi), 1.0), else_=0.0)),
    ).group_by(*keys)
    values: dict[GroupKey, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for d, v, metric, day, predicted, actual in session.execute(
        select(
            pairs.c.device,
            pairs.c.version,
            pairs.c.metric,
            pairs.c.day,
            pairs.c.predicted,
            pairs.c.actual,
        )
    ):
        bucket = values[(d, v, metric, str(day))]
        bucket[0].append(float(predicted))
        bucket[1].append(float(actual))
    rows = []
    for d, v, metric, day, n, mape, acc, inside in session.execute(agg.order_by(*keys)):
        key = (d, v, metric, str(day))
        rows.append(
            ErrorReportRow(
                device=d,
                predictor_version=v,
                metric=metric,
                day=str(day),
                count=int(n),
                mape=100.0 * float(mape),
                acc_10=float(acc),
                coverage_90=float(inside),
                spearman=spearman(*values[key]),
            )
        )
    return rows
