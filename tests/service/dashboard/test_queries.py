"""Overview, jobs and model queries (grouped in SQL)."""

from __future__ import annotations

from datetime import timedelta

from service.core.db import Database
from service.dashboard import queries
from service.models import utcnow
from tests.service.dashboard import factories as f


def test_device_summaries_online_window_and_counts(db: Database) -> None:
    now = utcnow()
    with db.session(write=True) as session:
        f.add_device(
            session, "a", last_seen_at=now - timedelta(seconds=queries.ONLINE_WINDOW_S - 5)
        )
        f.add_device(
            session, "b", last_seen_at=now - timedelta(seconds=queries.ONLINE_WINDOW_S + 5)
        )
        f.add_device(session, "c")
        model = f.add_model(session)
        f.add_measurement(session, "a", model.id, 1.0, created_at=now)
        f.add_measurement(session, "a", model.id, 2.0, created_at=now)
        f.add_job(session, "b", model.id, "queued")
        f.add_job(session, "a", model.id, "leased")
        f.add_job(session, "a", model.id, "failed", reason="boom")
    with db.session() as session:
        rows = {d.name: d for d in queries.device_summaries(session, now)}
    assert [rows[n].online for n in "abc"] == [True, False, False]
    assert (rows["a"].measurements, rows["a"].queued, rows["a"].leased) == (2, 0, 1)
    assert (rows["b"].measurements, rows["b"].queued, rows["b"].leased) == (0, 1, 0)


def test_measurements_per_day_window_and_job_lists(db: Database) -> None:
    now = utcnow()
    with db.session(write=True) as session:
        f.add_device(session, "a")
        model = f.add_model(session)
        for days_ago in (0, 0, 1, 45):
            f.add_measurement(
                session, "a", model.id, 1.0, created_at=now - timedelta(days=days_ago)
            )
        for reason in ("x", "y", "y", None):
            f.add_job(session, "a", model.id, "failed", reason=reason)
    with db.session() as session:
        per_day = queries.measurements_per_day(session, now, days=30)
        reasons = queries.failure_reasons(session)
        counts = queries.job_counts(session)
        failed = queries.jobs_with_status(session, ("failed",), limit=2)
        latest = queries.model_measurements(session, model.id)
    assert [n for _, n in per_day] == [1, 2]
    assert per_day[-1][0] == now.date().isoformat()
    assert reasons[0] == ("y", 2) and ("(no reason recorded)", 1) in reasons
    assert counts == {"queued": 0, "leased": 0, "done": 0, "failed": 4}
    assert len(failed) == 2
    assert [(m.device, m.n) for m in latest] == [("a", 4)]


def test_op_costs_sorts_by_flops() -> None:
    ir = f.tiny_ir("conv", 8)
    costs = queries.op_costs(ir.to_json())
    assert [op for op, _, _ in costs] == ["Conv", "Relu"]
    assert sum(flops for _, _, flops in costs) == ir.flops
