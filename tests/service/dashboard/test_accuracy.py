"""Pairing of logged predictions with later measurements, and the SQL error aggregates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from service.core.db import Database
from service.crud.pairs import pairs
from service.dashboard import accuracy, ops
from service.models import Model, utcnow
from tests.service.dashboard import factories as f


def _setup(session: Session) -> dict[str, str]:
    f.add_device(session, "d1")
    f.add_device(session, "d2")
    conv = f.add_model(session, family="resnet", shape="conv").id
    mlp = f.add_model(session, family=None, shape="mlp").id
    return {"conv": conv, "mlp": mlp}


def test_prediction_pairs_with_first_later_measurement_only(db: Database) -> None:
    t0 = utcnow() - timedelta(days=1)
    with db.session(write=True) as session:
        m = _setup(session)
        f.add_measurement(session, "d1", m["conv"], 50.0, created_at=t0 - timedelta(hours=1))
        f.add_prediction(session, "d1", m["conv"], 11.0, version="v", created_at=t0)
        f.add_measurement(session, "d1", m["conv"], 10.0, created_at=t0 + timedelta(hours=1))
        f.add_measurement(session, "d1", m["conv"], 99.0, created_at=t0 + timedelta(hours=2))
        f.add_measurement(session, "d2", m["conv"], 1.0, created_at=t0 + timedelta(hours=1))
        # a prediction never followed by a measurement, and one of another metric
        f.add_prediction(session, "d1", m["mlp"], 5.0, version="v", created_at=t0)
        f.add_prediction(
            session, "d1", m["conv"], 7.0, version="v", created_at=t0, metric="energy_mj"
        )
    with db.session() as session:
        (stats,) = accuracy.error_by(session, pairs("latency_ms", device="d1"), "version")
    assert (stats.key, stats.n) == ("v", 1)
    assert stats.mape_pct == pytest.approx(10.0)
    assert stats.within_10_pct == pytest.approx(100.0)
    assert stats.in_interval_pct == pytest.approx(100.0)  # 10 in the logged [8.8, 13.2]


def test_aggregates_by_family_histogram_worst_and_scatter(db: Database) -> None:
    t0 = utcnow() - timedelta(days=1)
    with db.session(write=True) as session:
        m = _setup(session)
        for i, err in enumerate((-0.48, -0.02, 0.03, 0.37, 2.5)):
            at = t0 + timedelta(minutes=10 * i)
            model = m["conv"] if i < 3 else m["mlp"]
            f.add_prediction(session, "d1", model, 10.0 * (1 + err), version="v", created_at=at)
            f.add_measurement(session, "d1", model, 10.0, created_at=at + timedelta(minutes=1))
    with (
        db.session() as session,
        accuracy.materialized(session, pairs("latency_ms", device="d1")) as p,
    ):
        families = {s.key: s for s in accuracy.error_by(session, p, "family")}
        histogram = dict(accuracy.residual_histogram(session, p))
        worst = accuracy.worst_models(session, p, limit=1)
        scatter = accuracy.scatter_sample(session, p)
        by_op = ops.error_by_dominant_op(session, p, ops.DominantOps())
    assert families["resnet"].n == 3 and families["unknown"].n == 2
    assert families["resnet"].mape_pct == pytest.approx(100 * (0.48 + 0.02 + 0.03) / 3)
    assert families["resnet"].within_10_pct == pytest.approx(200 / 3)
    # logged intervals are [0.8, 1.2] x predicted: 10 is outside [4.16, 6.24] (-48 %) only
    assert families["resnet"].in_interval_pct == pytest.approx(200 / 3)
    assert families["unknown"].in_interval_pct == 0.0  # predicted 13.7 and 35
    assert histogram[-0.5] == 1
    assert histogram[-0.05] == 1 and histogram[0.0] == 1 and histogram[0.35] == 1
    assert histogram[0.95] == 1  # +250% is clipped into the last bucket
    assert sum(histogram.values()) == 5 and len(histogram) == 40
    assert worst[0].model_id == m["mlp"] and worst[0].mape_pct == pytest.approx(100 * 2.87 / 2)
    assert len(scatter) == 5
    approx = pytest.approx
    assert (10.0, approx(35.0), "unknown", approx(28.0), approx(42.0)) in scatter
    assert {s.key: s.n for s in by_op} == {"Conv": 3, "Gemm": 2}
    assert {s.key: s.in_interval_pct for s in by_op} == {"Conv": pytest.approx(200 / 3), "Gemm": 0}


def test_materialized_table_is_dropped(db: Database) -> None:
    with db.session() as session:
        with accuracy.materialized(session, pairs("energy_mj")) as table:
            name = table.name
            assert accuracy.error_by(session, table, "version") == []
        connection = session.connection()
        assert not inspect(connection).has_table(name)


def test_unknown_metric_names_the_choices() -> None:
    with pytest.raises(ValueError, match="latency_ms"):
        pairs("flops")


def test_dominant_ops_reads_each_ir_once(db: Database) -> None:
    with db.session(write=True) as session:
        m = _setup(session)
    cache = ops.DominantOps()
    with db.session() as session:
        assert cache.lookup(session, [m["conv"], m["mlp"], "f" * 64]) == {
            m["conv"]: "Conv",
            m["mlp"]: "Gemm",
            "f" * 64: "unknown",
        }
    with db.session(write=True) as session:
        session.execute(update(Model).values(ir_json='{"nodes": []}'))
    with db.session() as session:
        assert cache.lookup(session, [m["conv"]]) == {m["conv"]: "Conv"}  # ids are content hashes
