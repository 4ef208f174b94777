"""Prediction error for the dashboard, aggregated in SQL.

A logged prediction is paired with the first measurement of the same model on the same device
stored after it that has the predicted metric (:func:`service.crud.pairs.pairs`). Every
function below groups those pairs in the database and returns only the aggregated rows (or a
bounded sample for the scatter plot).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    FromClause,
    Integer,
    MetaData,
    String,
    Subquery,
    Table,
    case,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

#: Residual histogram: bucket width (relative error) and clipping range.
BUCKET_WIDTH = 0.05
BUCKET_LIMIT = 1.0
#: At most this many recent pairs are drawn in the scatter plot.
SCATTER_POINTS = 2000


class _floor(FunctionElement[int]):
    """FLOOR of a positive number (SQLite builds without math functions lack FLOOR)."""

    type = Integer()
    inherit_cache = True


@compiles(_floor)
def _floor_default(element: _floor, compiler: SQLCompiler, **kw: Any) -> str:
    return f"FLOOR({compiler.process(element.clauses, **kw)})"


@compiles(_floor, "sqlite")
def _floor_sqlite(element: _floor, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Error of a group of pairs: count, mean absolute percentage error, share within ±10%.

    ``in_interval_pct``: share of measurements inside the prediction's 90% interval (a
    calibrated predictor is near 90; far above, its intervals are too wide, far below, too
    narrow); None where the group does not carry intervals.
    """

    key: str
    n: int
    mape_pct: float
    within_10_pct: float
    in_interval_pct: float | None = None


@contextmanager
def materialized(session: Session, p: Subquery) -> Iterator[Table]:
    """The rows of :func:`pairs` copied once into a temporary table, dropped afterwards.

    Pairing costs one correlated lookup per logged prediction; a page that aggregates the same
    pairs several ways pays it once.
    """
    table = Table(
        f"dashboard_pairs_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("device", String(64)),
        Column("model_id", String(64)),
        Column("version", String(128)),
        Column("day", String(10)),
        Column("log_id", BigInteger),
        Column("predicted", Float),
        Column("lo", Float),
        Column("hi", Float),
        Column("actual", Float),
        Column("family", String(64)),
        Column("check_kind", String(8)),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The correlated lookup inflates the cost estimate past jit_above_cost; compiling the
        # plan then takes longer (seconds) than running it. Only this transaction is affected.
        connection.execute(text("SET LOCAL jit = off"))
    table.create(connection)
    try:
        columns = [c.name for c in table.c]
        connection.execute(insert(table).from_select(columns, select(*(p.c[c] for c in columns))))
        yield table
    finally:
        table.drop(connection)


def abs_rel(p: FromClause) -> Any:
    return func.abs(p.c.predicted - p.c.actual) / p.c.actual


def in_interval(p: FromClause) -> Any:
    """1.0 where the measured value lies inside the logged 90% interval, else 0.0."""
    return case((p.c.actual.between(p.c.lo, p.c.hi), 1.0), else_=0.0)


def _stats_columns(p: FromClause) -> tuple[Any, Any, Any, Any]:
    rel = abs_rel(p)
    return (
        func.count().label("n"),
        func.avg(rel).label("mape"),
        func.avg(case((rel <= 0.1, 1.0), else_=0.0)).label("within"),
        func.avg(in_interval(p)).label("in_interval"),
    )


def _stats(key: Any, n: Any, mape: Any, within: Any, inside: Any) -> ErrorStats:
    return ErrorStats(
        str(key), int(n), 100.0 * float(mape), 100.0 * float(within), 100.0 * float(inside)
    )


def error_by(
    session: Session, p: FromClause, column: str, limit: int | None = None
) -> list[ErrorStats]:
    """Error grouped by one column of ``p`` (``version``, ``family``, ``device``, ``model_id``).

    Ordered by the group key, or by descending count when ``limit`` is given.
    """
    key = p.c[column]
    query = select(key, *_stats_columns(p)).group_by(key)
    query = query.order_by(key) if limit is None else query.order_by(func.count().desc(), key)
    if limit is not None:
        query = query.limit(limit)
    return [_stats(*row) for row in session.execute(query)]


def error_by_version_day(session: Session, p: FromClause) -> list[tuple[str, str, float, int]]:
    """(version, UTC day, MAPE %, count) for every version and day with pairs."""
    n, mape, _, _ = _stats_columns(p)
    query = (
        select(p.c.version, p.c.day, mape, n)
        .group_by(p.c.version, p.c.day)
        .order_by(p.c.day, p.c.version)
    )
    return [(str(v), str(d), 100.0 * float(m), int(k)) for v, d, m, k in session.execute(query)]


def residual_histogram(session: Session, p: FromClause) -> list[tuple[float, int]]:
    """(bucket lower edge, count) of the signed relative error (predicted - measured) / measured.

    Buckets are :data:`BUCKET_WIDTH` wide; errors beyond ±:data:`BUCKET_LIMIT` fall into the
    outermost buckets.
    """
    rel = (p.c.predicted - p.c.actual) / p.c.actual
    n_buckets = round(2 * BUCKET_LIMIT / BUCKET_WIDTH)
    raw = (rel + BUCKET_LIMIT) / BUCKET_WIDTH
    bucket = case(
        (rel <= -BUCKET_LIMIT, 0),
        (rel >= BUCKET_LIMIT, n_buckets - 1),
        else_=_floor(raw),
    ).label("bucket")
    query = select(bucket, func.count()).group_by(bucket).order_by(bucket)
    counts = dict.fromkeys(range(n_buckets), 0)
    for b, k in session.execute(query):
        counts[min(int(b), n_buckets - 1)] += int(k)
    return [(round(b * BUCKET_WIDTH - BUCKET_LIMIT, 6), k) for b, k in counts.items()]


@dataclass(frozen=True, slots=True)
class WorstModel:
    """A model whose predictions were furthest off on average."""

    model_id: str
    family: str
    n: int
    mape_pct: float
    predicted: float
    actual: float


def worst_models(session: Session, p: FromClause, limit: int = 15) -> list[WorstModel]:
    """The ``limit`` models with the largest mean absolute percentage error."""
    rel = abs_rel(p)
    query = (
        select(
            p.c.model_id,
            func.max(p.c.family),
            func.count(),
            func.avg(rel).label("mape"),
            func.avg(p.c.predicted),
            func.avg(p.c.actual),
        )
        .group_by(p.c.model_id)
        .order_by(func.avg(rel).desc(), p.c.model_id)
        .limit(limit)
    )
    return [
        WorstModel(str(m), str(f), int(n), 100.0 * float(e), float(pr), float(ac))
        for m, f, n, e, pr, ac in session.execute(query)
    ]


def scatter_sample(session: Session, p: FromClause) -> list[tuple[float, float, str, float, float]]:
    """(measured, predicted, family, lo, hi) of the :data:`SCATTER_POINTS` most recent pairs."""
    query = (
        select(p.c.actual, p.c.predicted, p.c.family, p.c.lo, p.c.hi)
        .where(p.c.predicted > 0)
        .order_by(p.c.log_id.desc())
        .limit(SCATTER_POINTS)
    )
    return [
        (float(a), float(pr), str(f), float(lo), float(hi))
        for a, pr, f, lo, hi in session.execute(query)
    ]
