"""The prediction log insert (COPY on PostgreSQL, driver executemany on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from service.core.db import Database, is_postgres
from service.crud.predictions import LogRow, log_many
from service.models import PredictionLog


def _rows(n: int) -> list[LogRow]:
    return [
        (
            *(f"{i:064x}", None if i % 2 else '{"arch": "x"}', "dev1", "v1", "latency_ms"),
            *(i, 0.5, 1, 2, f"{i:064x}", "audit" if i % 3 == 0 else None),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [0, 1, 150])
def test_log_many_stores_every_row_stamped_now(db: Database, n: int) -> None:
    before = datetime.now(UTC)
    with db.session(write=True) as session:
        log_many(session, _rows(n))
    with db.session() as session:
        stored = session.scalars(select(PredictionLog).order_by(PredictionLog.id)).all()
    got = [
        (
            *(r.model_id, r.spec, r.device, r.predictor_version, r.metric, r.mean, r.std, r.lo),
            *(r.hi, r.fingerprint, r.check_kind),
        )
        for r in stored
    ]
    assert got == _rows(n)
    for row in stored:
        assert before - timedelta(seconds=1) <= row.created_at <= datetime.now(UTC)


def test_log_rows_roll_back_with_their_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session(write=True) as session:
        log_many(session, _rows(3))
        raise RuntimeError("request failed after logging")
    with db.session() as session:
        assert session.scalars(select(PredictionLog)).all() == []
        if is_postgres(db.engine):  # SET LOCAL: the next transaction commits synchronously again
            assert session.scalar(text("SHOW synchronous_commit")) == "on"
