"""Prediction error report: logged predictions against measurements taken afterwards.

Each logged prediction is paired with the FIRST measurement of the same model on the same
device stored after the prediction that has the predicted metric
(:func:`service.crud.pairs.pairs`, shared with the dashboard). The pairs are read once per
metric (Spearman's rank correlation needs each of them); count, MAPE, acc_10 and the share
inside the logged 90% interval are summed from the same rows.

Each row also splits out the pairs of audited predictions (drawn at random, an unbiased sample
of what was served) and of doubt-triggered ones, with a 95% Student-t interval on the audited
MAPE (mean absolute percentage error +- t(0.975, n-1) * sd / sqrt(n), clipped at 0).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
from scipy.stats import rankdata
from scipy.stats import t as student_t
from sqlalchemy import select
from sqlalchemy.orm import Session

from predictor.api import accuracy_within, coverage, mape
from service.crud.pairs import METRIC_COLUMNS, pairs
from service.schemas import ErrorReportRow

#: (device, predictor version, UTC day)
GroupKey = tuple[str, str, str]


def spearman(predicted: list[float], actual: list[float]) -> float | None:
    """Spearman's rank correlation (ties averaged); None when undefined."""
    if len(predicted) < 2:
        return None
    rp, ra = rankdata(predicted), rankdata(actual)
    if np.ptp(rp) == 0 or np.ptp(ra) == 0:
        return None
    return float(np.corrcoef(rp, ra)[0, 1])


def t_interval_pct(abs_rel_errors: np.ndarray) -> tuple[float, float] | None:
    """95% Student-t interval (in %) on the mean of absolute relative errors; None if n < 2."""
    n = len(abs_rel_errors)
    if n < 2:
        return None
    centre = float(np.mean(abs_rel_errors))
    half = float(student_t.ppf(0.975, n - 1) * np.std(abs_rel_errors, ddof=1) / np.sqrt(n))
    return 100.0 * max(0.0, centre - half), 100.0 * (centre + half)


def _split(rel: np.ndarray, kinds: np.ndarray) -> dict[str, float | int | None]:
    """Audited and doubt-triggered counts and MAPE (%), with the audited interval."""
    audited, doubt = rel[kinds == "audit"], rel[kinds == "doubt"]
    interval = t_interval_pct(audited)
    return {
        "audited_count": len(audited),
        "audited_mape": 100.0 * float(np.mean(audited)) if len(audited) else None,
        "audited_mape_ci95_lo": interval[0] if interval else None,
        "audited_mape_ci95_hi": interval[1] if interval else None,
        "doubt_count": len(doubt),
        "doubt_mape": 100.0 * float(np.mean(doubt)) if len(doubt) else None,
    }


def error_report(
    session: Session, device: str | None = None, since: datetime | None = None
) -> list[ErrorReportRow]:
    """Error per device, predictor version, metric and day (UTC)."""
    rows = [r for metric in METRIC_COLUMNS for r in _metric_rows(session, metric, device, since)]
    return sorted(rows, key=lambda r: (r.device, r.predictor_version, r.metric, r.day))


def _metric_rows(
    session: Session, metric: str, device: str | None, since: datetime | None
) -> list[ErrorReportRow]:
    """One pass over the metric's pairs (Spearman needs every pair, so the sums are taken here)."""
    p = pairs(metric, device=device, since=since)
    groups: dict[GroupKey, list[tuple[float, float, float, float]]] = defaultdict(list)
    checks: dict[GroupKey, list[str]] = defaultdict(list)
    query = select(
        p.c.device, p.c.version, p.c.day, p.c.predicted, p.c.lo, p.c.hi, p.c.actual, p.c.check_kind
    )
    for d, v, day, predicted, lo, hi, actual, kind in session.execute(query):
        groups[(d, v, str(day))].append((float(predicted), float(lo), float(hi), float(actual)))
        checks[(d, v, str(day))].append(str(kind))
    rows = []
    for (d, v, day), values in groups.items():
        predicted, lo, hi, actual = np.asarray(values).T
        rel = np.abs(predicted - actual) / actual
        rows.append(
            ErrorReportRow(
                device=d,
                predictor_version=v,
                metric=metric,
                day=day,
                count=len(values),
                mape=100.0 * mape(predicted, actual),
                acc_10=accuracy_within(predicted, actual, 0.1),
                coverage_90=coverage(lo, hi, actual),
                spearman=spearman(list(predicted), list(actual)),
                **_split(rel, np.asarray(checks[(d, v, day)])),
            )
        )
    return rows
