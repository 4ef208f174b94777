"""A fresh data dir starts with the shipped predictor active: predictions answer without any
training (low-confidence for a device with no measurement), and only an empty database gets it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from predictor.api import load_predictor
from service.core.config import Settings
from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.main import create_app
from service.shipped import install_shipped
from service.state import AppState
from service.training_round import RetrainConfig, run_round
from tests.service.factories import make_device, make_measurement, make_model


def test_an_empty_database_gets_the_shipped_version_active(
    db: Database, settings: Settings
) -> None:
    version = install_shipped(db, settings)
    assert version is not None
    with db.session() as session:
        active = predictor_crud.active(session)
        assert active is not None and active.version == version
        assert active.metrics == {"shipped": True}
        path = Path(active.artifact_path)
    assert path.parent == settings.artifact_dir
    assert load_predictor(path).version == version
    assert install_shipped(db, settings) is None  # versions exist: nothing changes


def test_no_shipped_version_when_disabled(db: Database, settings: Settings) -> None:
    disabled = settings.model_copy(update={"ship_predictor": False})
    assert install_shipped(db, disabled) is None
    with db.session() as session:
        assert predictor_crud.active(session) is None


def test_fresh_install_predicts_a_new_device_with_and_without_measurements(
    db: Database, settings: Settings, client_auth: dict[str, str]
) -> None:
    install_shipped(db, settings)
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        models = [make_model(session, channels=c).id for c in (4, 8, 16, 24, 32, 40)]
        for i, mid in enumerate(models[:5]):
            make_measurement(session, mid, device="dev2", latency_ms=0.5 + 0.1 * i)
    with TestClient(create_app(settings)) as client:
        bare = client.post(
            "/api/v1/predictions", json={"device": "dev1", "model_ids": models}, headers=client_auth
        )
        measured = client.post(
            "/api/v1/predictions", json={"device": "dev2", "model_ids": models}, headers=client_auth
        )
    assert bare.status_code == 200, bare.text
    assert measured.status_code == 200, measured.text
    assert bare.json()["low_confidence"] is True
    bare_rows = bare.json()["predictions"]
    measured_rows = measured.json()["predictions"]
    assert all(r["metrics"]["latency_ms"]["mean"] > 0 for r in bare_rows + measured_rows)
    width = [r["metrics"]["latency_ms"]["hi"] / r["metrics"]["latency_ms"]["lo"] for r in bare_rows]
    fitted = [
        r["metrics"]["latency_ms"]["hi"] / r["metrics"]["latency_ms"]["lo"] for r in measured_rows
    ]
    assert min(width) > max(fitted)  # no measurement: a wider interval than after five
    assert 0.3 < measured_rows[5]["metrics"]["latency_ms"]["mean"] < 3.0  # near measured peers


def test_the_first_retrained_version_is_compared_with_the_shipped_one(
    db: Database, settings: Settings
) -> None:
    shipped = install_shipped(db, settings)
    state = AppState.build(settings, load_predictor)
    try:
        with db.session(write=True) as session:
            make_device(session, "dev1")
            for _ in range(12):
                model = make_model(session)
                make_measurement(session, model.id, latency_ms=0.02 * model.macs / 1e6 + 0.1)
        result = run_round(state, RetrainConfig(min_device_samples=6), {})
        with db.session() as session:
            row = predictor_crud.get(session, result.version)
            active = predictor_crud.active(session)
            assert active is not None
            assert row.metrics["compared_with"] == shipped
            assert row.metrics["warm_start_from"] == shipped
            assert set(row.metrics["active_per_device"]) == {"dev1"}  # the shipped one scored
            assert active.version == (result.version if result.promoted else shipped)
    finally:
        state.db.dispose()
