"""The batched prediction-log writer: rows reach the database, in order and stamped when served;
nothing is lost on close or on a failed write; a full queue answers 503; shutdown flushes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.core.config import Settings
from service.core.db import Database
from service.core.errors import Unavailable
from service.crud import predictions as log_crud
from service.crud import predictors as predictor_crud
from service.log_writer import PredictionLogWriter
from service.main import create_app
from service.models import PredictionLog
from tests.service.factories import make_device, make_model
from tests.service.predictors import load_linear, write_artifact


def _rows(model_id: str, n: int) -> list[log_crud.LogRow]:
    row = (model_id, None, "dev1", "v1", "latency_ms")
    return [(*row, float(i), 0.1, 0.0, 1.0, model_id, None) for i in range(n)]


def _logged(db: Database) -> list[tuple[str | None, float, datetime]]:
    with db.session() as session:
        query = select(PredictionLog.model_id, PredictionLog.mean, PredictionLog.created_at)
        return [tuple(r) for r in session.execute(query.order_by(PredictionLog.id))]  # type: ignore[misc]


@pytest.fixture
def model_id(db: Database) -> str:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        return make_model(session).id


def test_background_thread_writes_batches_in_order(db: Database, model_id: str) -> None:
    writer = PredictionLogWriter(db, flush_interval_s=0.05)
    served = datetime.now(UTC)
    for _ in range(3):
        writer.submit(_rows(model_id, 2))
    deadline = time.monotonic() + 30
    while writer.pending_rows and time.monotonic() < deadline:
        time.sleep(0.02)
    rows = _logged(db)
    assert [mean for _, mean, _ in rows] == [0.0, 1.0] * 3
    stamp = rows[0][2] if rows[0][2].tzinfo else rows[0][2].replace(tzinfo=UTC)
    assert abs((stamp - served).total_seconds()) < 5  # the time served, not the time written
    writer.close()


def test_close_writes_every_queued_row(db: Database, model_id: str) -> None:
    writer = PredictionLogWriter(db, flush_interval_s=3600)  # only close() writes
    writer.submit(_rows(model_id, 5))
    assert _logged(db) == []
    writer.close()
    assert len(_logged(db)) == 5 and writer.pending_rows == 0
    writer.submit(_rows(model_id, 1))  # after close: written in the caller
    assert len(_logged(db)) == 6


def test_a_failed_write_keeps_the_rows(
    db: Database, model_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = PredictionLogWriter(db, flush_interval_s=3600)
    writer.submit(_rows(model_id, 2))
    real = log_crud.log_many

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(log_crud, "log_many", broken)
    assert writer.flush() is False
    assert writer.pending_rows == 2 and _logged(db) == []
    monkeypatch.setattr(log_crud, "log_many", real)
    assert writer.flush() is True
    assert len(_logged(db)) == 2 and writer.pending_rows == 0
    writer.close()


def test_a_full_queue_answers_503(db: Database, model_id: str) -> None:
    writer = PredictionLogWriter(db, flush_interval_s=3600, max_pending_rows=3, max_wait_s=0.05)
    writer.submit(_rows(model_id, 3))
    with pytest.raises(Unavailable) as caught:
        writer.submit(_rows(model_id, 1))
    assert caught.value.code == "prediction_log_backlog"
    writer.close()
    assert len(_logged(db)) == 3


def test_app_shutdown_flushes_the_log(settings: Settings, db: Database, tmp_path: Path) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        mid = make_model(session).id
        artifact = write_artifact(tmp_path / "v1", "v1", 0.01)
        predictor_crud.register(session, "v1", str(artifact), {})
        predictor_crud.activate(session, "v1")
        from service.crud.tokens import create_token

        auth = {"Authorization": f"Bearer {create_token(session, 'client')}"}
    batched = settings.model_copy(update={"prediction_log_flush_seconds": 3600})
    with TestClient(create_app(batched, predictor_loader=load_linear)) as client:
        r = client.post(
            "/api/v1/predictions", json={"device": "dev1", "model_ids": [mid]}, headers=auth
        )
        assert r.status_code == 200, r.text
        assert _logged(db) == []  # queued, not yet written
    assert [(m, v) for m, v, _ in _logged(db)] != []
    assert {m for m, _, _ in _logged(db)} == {mid}


def test_the_thread_retries_a_failed_write(
    db: Database, model_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = log_crud.log_many
    calls: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database down")
        real(*args, **kwargs)

    monkeypatch.setattr(log_crud, "log_many", fails_once)
    writer = PredictionLogWriter(db, flush_interval_s=0.05)
    writer.submit(_rows(model_id, 3))
    deadline = time.monotonic() + 30
    while writer.pending_rows and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(calls) >= 2 and len(_logged(db)) == 3
    writer.close()
