"""Tokens: only the sha256 is stored; revoked and unknown tokens are refused."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.core.db import Database
from service.crud import tokens as token_crud
from service.models import Token


def test_raw_token_never_stored(db: Database) -> None:
    with db.session(write=True) as session:
        raw = token_crud.create_token(session, "agent", "dev1", label="bench")
    with db.session() as session:
        rows = session.execute(select(Token.__table__)).all()
    assert len(rows) == 1
    assert all(raw not in str(value) for value in rows[0])
    assert rows[0].token_hash == hashlib.sha256(raw.encode()).hexdigest()
    with db.session() as session:
        principal = token_crud.find_principal(session, raw)
    assert principal is not None and principal.scope == "agent" and principal.device == "dev1"


def test_scope_device_rules(db: Database) -> None:
    with db.session(write=True) as session:
        with pytest.raises(ValueError, match="--device"):
            token_crud.create_token(session, "agent")
        with pytest.raises(ValueError, match="only agent"):
            token_crud.create_token(session, "client", "dev1")


def test_revoked_token_401(client: TestClient, db: Database) -> None:
    with db.session(write=True) as session:
        raw = token_crud.create_token(session, "client")
        token_id = session.scalar(select(Token.id))
        assert token_id is not None and token_crud.has_admin(session) is False
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    with db.session(write=True) as session:
        assert token_crud.revoke(session, token_id)
    r = client.get("/api/v1/devices", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
