"""Audited vs doubt-triggered error, live metrics over time and interval calibration.

Audited predictions were drawn at random (:mod:`service.audit`), so their error estimates the
live error of everything served; doubt-triggered ones were measured because their interval was
wide, a sample biased towards the hard cases. The audited MAPE carries a 95% Student-t
interval, from the count, mean and mean square of the absolute relative errors (SQL sums).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import norm
from scipy.stats import t as student_t
from sqlalchemy import FromClause, case, func, select
from sqlalchemy.orm import Session

from service.dashboard.accuracy import abs_rel, in_interval

#: Nominal central coverages of the calibration curve.
NOMINAL = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: The logged interval is the central 90% one; its half-width in standard deviations.
LOGGED_COVERAGE = 0.9
Z_LOGGED = float(norm.ppf(0.5 + LOGGED_COVERAGE / 2))
#: Half-widths (in standard deviations) of the nominal central intervals.
Z_NOMINAL = tuple(float(norm.ppf(0.5 + n / 2)) for n in NOMINAL)
CHECK_LABELS = {"audit": "audited (random)", "doubt": "doubt-triggered", "none": "not queued"}


@dataclass(frozen=True, slots=True)
class CheckStats:
    """Error of the pairs of one check kind (``audit``, ``doubt`` or ``none``)."""

    kind: str
    n: int
    mape_pct: float
    ci_lo_pct: float | None
    ci_hi_pct: float | None

    @property
    def label(self) -> str:
        """What the kind means, for a person."""
        return CHECK_LABELS.get(self.kind, self.kind)


def t_interval(n: int, mean: float, mean_square: float) -> tuple[float, float] | None:
    """95% Student-t interval on a mean from its count and mean square; None when n < 2."""
    if n < 2:
        return None
    variance = max(0.0, (mean_square - mean * mean) * n / (n - 1))
    half = float(student_t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return max(0.0, mean - half), mean + half


def error_by_check(
    session: Session, p: FromClause, group: str | None = None
) -> dict[tuple[str, str], CheckStats]:
    """(group value or ``''``, check kind) -> stats, with the t-interval on every MAPE."""
    rel = abs_rel(p)
    key = p.c[group] if group is not None else None
    columns = (p.c.check_kind, func.count(), func.avg(rel), func.avg(rel * rel))
    query = select(*columns) if key is None else select(key, *columns).group_by(key)
    query = query.group_by(p.c.check_kind)
    out = {}
    for row in session.execute(query):
        values = tuple(row)
        g = "" if key is None else str(values[0])
        kind, n, mean, square = values[-4:]
        interval = t_interval(int(n), float(mean), float(square))
        out[(g, str(kind))] = CheckStats(
            str(kind),
            int(n),
            100.0 * float(mean),
            100.0 * interval[0] if interval else None,
            100.0 * interval[1] if interval else None,
        )
    return out


def metrics_by_version_day(
    session: Session, p: FromClause
) -> list[tuple[str, str, float, float, float, int]]:
    """(version, UTC day, MAPE %, within ±10 %, inside the 90% interval %, n)."""
    rel = abs_rel(p)
    query = (
        select(
            p.c.version,
            p.c.day,
            func.avg(rel),
            func.avg(case((rel <= 0.1, 1.0), else_=0.0)),
            func.avg(in_interval(p)),
            func.count(),
        )
        .group_by(p.c.version, p.c.day)
        .order_by(p.c.day, p.c.version)
    )
    return [
        (str(v), str(d), 100.0 * float(m), 100.0 * float(w), 100.0 * float(c), int(n))
        for v, d, m, w, c, n in session.execute(query)
    ]


def _z(actual: float, lo: float, hi: float) -> float | None:
    """Standardised distance of ``actual`` from the interval's centre (log scale if positive)."""
    if lo > 0 and hi > lo:
        log_lo, log_hi = math.log(lo), math.log(hi)
        sigma = (log_hi - log_lo) / (2 * Z_LOGGED)
        return abs(math.log(actual) - (log_lo + log_hi) / 2) / sigma
    if hi > lo:
        return abs(actual - (lo + hi) / 2) / ((hi - lo) / (2 * Z_LOGGED))
    return None


def calibration(pairs: Sequence[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """(nominal, observed) central coverage from (measured, lo, hi) pairs.

    Only the 90% interval is logged; the interval of another nominal coverage is the logged one
    scaled on a log scale (a log-normal error around the interval's geometric centre; linear
    when ``lo <= 0``). At 0.9 the observed value is the share inside the logged interval.
    """
    zs = [z for actual, lo, hi in pairs if actual > 0 and (z := _z(actual, lo, hi)) is not None]
    if not zs:
        return []
    return [
        (nominal, sum(z <= bound + 1e-12 for z in zs) / len(zs))
        for nominal, bound in zip(NOMINAL, Z_NOMINAL, strict=True)
    ]
