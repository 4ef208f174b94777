"""Deployment bootstrap: tokens from the environment are stored hashed, once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.bootstrap import install_tokens, tokens_from_env
from service.core.db import Database
from service.crud.tokens import find_principal
from service.models import Token

ADMIN = "plt_" + "a" * 30
AGENT = "plt_" + "b" * 30


def test_tokens_from_env_maps_variables_to_scopes() -> None:
    env = {
        "PERFLOOP_ADMIN_TOKEN": ADMIN,
        "PERFLOOP_AGENT_TOKEN_ORT_CPU": AGENT,
        "PERFLOOP_AGENT_TOKEN_TFLM": "",
        "HOME": "/root",
    }
    assert tokens_from_env(env) == [(ADMIN, "admin", None), (AGENT, "agent", "ort-cpu")]


def test_a_malformed_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="PERFLOOP_ADMIN_TOKEN") as info:
        tokens_from_env({"PERFLOOP_ADMIN_TOKEN": "hunter2-secret"})
    assert "hunter2" not in str(info.value)


def test_install_is_idempotent_and_stores_only_hashes(db: Database) -> None:
    tokens = tokens_from_env({"PERFLOOP_ADMIN_TOKEN": ADMIN, "PERFLOOP_AGENT_TOKEN_X1": AGENT})
    with db.session(write=True) as session:
        assert install_tokens(session, tokens) == 2
    with db.session(write=True) as session:
        assert install_tokens(session, tokens) == 0
    with db.session() as session:
        stored = session.scalars(select(Token.token_hash)).all()
        assert len(stored) == 2 and ADMIN not in stored and AGENT not in stored
        agent = find_principal(session, AGENT)
        assert agent is not None and agent.scope == "agent" and agent.device == "x1"
