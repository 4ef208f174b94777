"""Liveness and readiness."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.core.config import Settings
from service.core.db import make_engine
from service.main import create_app
from service.migrate import downgrade, head_revision, upgrade


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["revision"] == head_revision()


def test_readyz_503_when_behind_or_unreachable(settings: Settings, own_db_url: str) -> None:
    settings = settings.model_copy(update={"database_url": own_db_url})
    engine = make_engine(own_db_url)
    try:
        downgrade(engine, "base")
        with TestClient(create_app(settings)) as client:
            r = client.get("/readyz")
            assert r.status_code == 503 and r.json()["error"]["code"] == "migrations_pending"
        upgrade(engine)
    finally:
        engine.dispose()
    broken = settings.model_copy(update={"database_url": "sqlite:////nonexistent/dir/x.db"})
    with TestClient(create_app(broken)) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
        assert client.get("/healthz").status_code == 200


def test_openapi_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/predictions" in spec["paths"]
    post = spec["paths"]["/api/v1/predictions"]["post"]
    assert post["summary"].startswith("Predict")
    assert client.get("/docs").status_code == 200
