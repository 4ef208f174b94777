"""A database that cannot be reached gives 503 with Retry-After, quickly, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.core.config import Settings
from service.main import create_app
from tests.reliability.stack import free_port


def test_unreachable_database_is_503(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(Settings(data_dir=tmp_path, database_url=url))
    with TestClient(app) as client:
        response = client.get("/api/v1/devices", headers={"Authorization": "Bearer plt_x"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "database_unavailable"
        assert client.get("/readyz").status_code == 503
