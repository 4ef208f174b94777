"""Fixtures: the real app on a fresh migrated database (SQLite and PostgreSQL, from the service
test fixtures), empty or filled by the factories, with tokens of every scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.core.config import Settings
from service.crud.tokens import create_token
from service.main import create_app
from service.models import utcnow
from service.state import AppState
from tests.service.dashboard import factories


def _no_predictor(path: Path) -> Any:
    raise AssertionError(f"the dashboard must not load predictors (asked for {path})")


@dataclass
class Site:
    """An app with tokens of every scope and (when filled) the stored scenario."""

    app: FastAPI
    client_token: str
    admin_token: str
    agent_token: str
    scenario: factories.Scenario | None

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.perfloop
        return state

    def client(self, **kwargs: Any) -> TestClient:
        """A test client (no login)."""
        return TestClient(self.app, **kwargs)

    def bearer(self, token: str | None = None) -> dict[str, str]:
        """Authorization header with ``token`` (default: the client token)."""
        return {"Authorization": f"Bearer {token or self.client_token}"}


def make_site(settings: Settings, filled: bool) -> Site:
    """Build an app on ``settings``' (migrated) database and fill it."""
    app = create_app(settings, predictor_loader=_no_predictor)
    state: AppState = app.state.perfloop
    with state.db.session(write=True) as session:
        scenario = factories.fill(session, utcnow()) if filled else None
        if not filled:
            factories.add_device(session, "edge-cpu", last_seen_at=None)
        client = create_token(session, "client")
        admin = create_token(session, "admin")
        agent = create_token(session, "agent", device="edge-cpu")
    return Site(app, client, admin, agent, scenario)


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    """A site filled with :func:`factories.fill`."""
    s = make_site(settings, filled=True)
    yield s
    s.state.db.dispose()


@pytest.fixture
def empty_site(settings: Settings) -> Iterator[Site]:
    """A site with one device (never seen, nothing measured) and nothing else."""
    s = make_site(settings, filled=False)
    yield s
    s.state.db.dispose()
