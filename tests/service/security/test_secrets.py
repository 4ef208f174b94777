"""Tokens are stored hashed and never logged; blob paths come from hashes only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from perfloop.cli import app as cli_app
from service.blobstore import BlobStore
from service.core.config import Settings, get_settings
from service.core.db import Database
from service.crud.tokens import create_token
from service.models import Token
from tests.service.factories import tiny_onnx


def test_raw_tokens_never_reach_logs_or_the_database(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with db.session(write=True) as session:
        raws = [create_token(session, "admin"), create_token(session, "client")]
        raws.append(create_token(session, "agent", "dev1"))
    admin, client_token, agent = ({"Authorization": f"Bearer {raw}"} for raw in raws)
    client.post(
        "/api/v1/devices",
        json={"name": "dev1", "kind": "cpu", "runtime": "onnxruntime"},
        headers=agent,
    )
    upload = client.post(
        "/api/v1/models", files={"file": ("m.onnx", tiny_onnx())}, headers=client_token
    )
    assert upload.status_code in (200, 201), upload.text
    client.get("/api/v1/devices", headers=admin)
    client.post("/api/v1/jobs/lease", json={"device": "dev2"}, headers=agent)  # 403, logged?
    revoked_like = raws[0][:-4] + "abcd"
    assert client.get("/api/v1/devices", headers={"Authorization": f"Bearer {revoked_like}"})
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for raw in [*raws, revoked_like]:
        assert raw not in logged
        assert raw[4:] not in logged  # not even without its prefix
    with db.session() as session:
        hashes = session.scalars(select(Token.token_hash)).all()
        dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM tokens")))
    assert len(hashes) == 3 and all(len(h) == 64 for h in hashes)
    assert not any(raw in dump or raw[4:] in dump for raw in raws)


def test_dashboard_login_and_cli_token_create_never_log_the_token(
    client: TestClient,
    db: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    with db.session(write=True) as session:
        viewer, agent = create_token(session, "client"), create_token(session, "agent", "dev1")
    forged = viewer[:-4] + "abcd"
    pages = []
    for raw in (viewer, agent, forged):  # 303 + cookie, 403 (agent), 401 (unknown)
        login = client.post("/dashboard/login", data={"token": raw}, follow_redirects=False)
        pages.append(login.text)
        pages.append(client.get("/dashboard/jobs", follow_redirects=False).text)
        client.post("/dashboard/logout", follow_redirects=False)
    monkeypatch.setenv("PERFLOOP_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("PERFLOOP_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["token", "create", "--scope", "client"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip()
    assert printed.startswith("plt_")
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for raw in (viewer, agent, forged, printed):
        assert raw not in logged and raw[4:] not in logged
    for raw in (agent, forged):  # a refused token is not echoed back in the login page
        assert not any(raw in page for page in pages)


@pytest.mark.parametrize(
    "model_id",
    ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/secret", "a" * 63 + "/", "AB" * 32],
)
def test_model_ids_that_are_not_hashes_never_touch_the_disk(
    client: TestClient, client_auth: dict[str, str], model_id: str
) -> None:
    for suffix in ("", "/onnx"):
        response = client.get(f"/api/v1/models/{model_id}{suffix}", headers=client_auth)
        assert 400 <= response.status_code < 500, (model_id, response.status_code)


def test_blob_store_refuses_anything_but_a_sha256(settings: Settings) -> None:
    store = BlobStore(settings.blob_dir)
    for bad in ("../x", "/etc/passwd", "a" * 64 + "/..", "", "g" * 64):
        with pytest.raises(ValueError):
            store.path_for(bad)
    digest = store.put(b"bytes")
    assert store.path_for(digest).resolve().is_relative_to(settings.blob_dir.resolve())
