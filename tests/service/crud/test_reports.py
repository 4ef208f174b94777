"""Error report numbers against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.core.db import Database
from service.crud.reports import spearman
from tests.service.factories import make_device, make_measurement, make_model, make_prediction

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _scenario(db: Database) -> None:
    """dev1/v1 on 2026-03-01: 3 scored predictions; plus rows that must NOT count."""
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        a, b, c, d = (make_model(session) for _ in range(4))
        # predicted 11 vs first later measurement 10: 10% error (acc_10 counts <= 10%)
        make_prediction(session, a.id, 11.0, created_at=T0)
        make_measurement(session, a.id, latency_ms=10.0, created_at=T0 + timedelta(hours=1))
        make_measurement(session, a.id, latency_ms=99.0, created_at=T0 + timedelta(hours=2))
        # predicted 15 vs 20: 25% error
        make_prediction(session, b.id, 15.0, created_at=T0)
        make_measurement(session, b.id, latency_ms=20.0, created_at=T0 + timedelta(minutes=5))
        # predicted 33 vs 30: 10%... use 31.5 vs 30: 5% error
        make_prediction(session, c.id, 31.5, created_at=T0 + timedelta(hours=3))
        make_measurement(session, c.id, latency_ms=30.0, created_at=T0 + timedelta(hours=4))
        # measured BEFORE the prediction only: not scored
        make_measurement(session, d.id, latency_ms=5.0, created_at=T0 - timedelta(hours=1))
        make_prediction(session, d.id, 50.0, created_at=T0)
        # another device and another day
        make_measurement(session, a.id, "dev2", latency_ms=8.0, created_at=T0 + timedelta(days=1))
        make_prediction(session, a.id, 4.0, "dev2", created_at=T0 + timedelta(hours=10))
        # an energy prediction, checked by the first later measurement that has energy
        make_prediction(session, b.id, 3.0, created_at=T0, metric="energy_mj")
        make_measurement(session, b.id, latency_ms=20.0, created_at=T0 + timedelta(minutes=6))
        make_measurement(session, b.id, energy_mj=2.0, created_at=T0 + timedelta(minutes=7))


def test_error_report_numbers(
    client: TestClient, db: Database, client_auth: dict[str, str]
) -> None:
    _scenario(db)
    r = client.get("/api/v1/error-report", headers=client_auth)
    assert r.status_code == 200, r.text
    listed = r.json()["rows"]
    assert [(x["device"], x["metric"]) for x in listed] == [
        ("dev1", "energy_mj"),
        ("dev1", "latency_ms"),
        ("dev2", "latency_ms"),
    ]
    energy = listed[0]  # predicted 3 vs 2: 50 % error, 2 outside [2.4, 3.6]
    assert energy["count"] == 1 and energy["mape"] == pytest.approx(50.0)
    assert energy["coverage_90"] == 0.0
    rows = {(x["device"], x["day"]): x for x in listed if x["metric"] == "latency_ms"}
    assert set(rows) == {("dev1", "2026-03-01"), ("dev2", "2026-03-01")}
    one = rows[("dev1", "2026-03-01")]
    assert one["count"] == 3 and one["predictor_version"] == "v1" and one["metric"] == "latency_ms"
    assert one["mape"] == pytest.approx(100 * (0.10 + 0.25 + 0.05) / 3)
    assert one["acc_10"] == pytest.approx(2 / 3)
    # logged intervals are [0.8, 1.2] x predicted: 10 in [8.8, 13.2], 20 not in [12, 18],
    # 30 in [25.2, 37.8]
    assert one["coverage_90"] == pytest.approx(2 / 3)
    # predicted 11, 15, 31.5 vs measured 10, 20, 30: ranks (1,2,3) vs (1,2,3)
    assert one["spearman"] == pytest.approx(1.0)
    two = rows[("dev2", "2026-03-01")]
    assert two["count"] == 1 and two["mape"] == pytest.approx(50.0) and two["acc_10"] == 0.0
    assert two["coverage_90"] == 0.0  # 8 not in [3.2, 4.8]
    assert two["spearman"] is None
    only = client.get("/api/v1/error-report?device=dev2", headers=client_auth).json()["rows"]
    assert [x["device"] for x in only] == ["dev2"]
    since = (T0 + timedelta(hours=2)).isoformat()
    later = client.get("/api/v1/error-report", params={"since": since}, headers=client_auth)
    assert sorted(x["count"] for x in later.json()["rows"]) == [1, 1]
    bad = client.get("/api/v1/error-report?since=yesterday", headers=client_auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"


def test_spearman_hand_values() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1.0)
    # d = (0, 1, -1): rho = 1 - 6*2/(3*8) = 0.5
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert spearman([1.0], [2.0]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None
