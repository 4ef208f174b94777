"""The prediction log (every served prediction).

A 1,000-model request logs 1,000 rows per metric, so the insert is on the request's critical
path: PostgreSQL takes them with one ``COPY`` (faster than an ORM bulk insert) in a transaction
that does not wait for its WAL flush, SQLite with one driver-level ``executemany`` (faster than
the ORM path, which builds and type-processes a dict per row); docs/BENCHMARKS.md, "Service".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.models import PredictionLog, utcnow

#: Columns of a log row tuple, in order (``created_at`` is added by :func:`log_many`).
LOG_COLUMNS = (
    "model_id",
    "spec",
    "device",
    "predictor_version",
    "metric",
    "mean",
    "std",
    "lo",
    "hi",
    "fingerprint",
    "check_kind",
)
LogRow = tuple[
    str | None, str | None, str, str, str, float, float, float, float, str | None, str | None
]

_COLUMNS_SQL = ", ".join((*LOG_COLUMNS, "created_at"))


def log_many(session: Session, rows: Sequence[LogRow], created_at: datetime | None = None) -> None:
    """Bulk insert prediction log rows (tuples in :data:`LOG_COLUMNS` order).

    Args:
        session: the (write) session.
        rows: the rows.
        created_at: their ``created_at`` (UTC; default now): when the predictions were served.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    process = PredictionLog.__table__.c.created_at.type.bind_processor(dialect)
    stamp = created_at if created_at is not None else utcnow()
    now: Any = process(stamp) if process is not None else stamp
    if dialect.name == "postgresql":
        # The log is not worth a WAL flush per request: a crash of the database server may lose
        # the last few hundred ms of log rows (never corrupts anything), and commits stop
        # waiting for the disk (about 10 ms each on this machine).
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY prediction_log ({_COLUMNS_SQL}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, now))
        return
    if dialect.name == "sqlite":
        marks = ", ".join("?" * (len(LOG_COLUMNS) + 1))
        connection.exec_driver_sql(
            f"INSERT INTO prediction_log ({_COLUMNS_SQL}) VALUES ({marks})",
            [(*row, now) for row in rows],
        )
        return
    values = [dict(zip(LOG_COLUMNS, row, strict=True)) | {"created_at": stamp} for row in rows]
    connection.execute(insert(PredictionLog), values)
