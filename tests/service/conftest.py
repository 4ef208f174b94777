"""Fixtures of the service tests: every DB test runs on SQLite AND PostgreSQL, each on a fresh
database; the app is built with ``create_app(settings)``; tokens of every scope."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # starlette 1.x warns once, at import, that it prefers httpx2
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from service.caches import PredictorLoader
from service.core.config import Settings
from service.core.db import Database
from service.crud.tokens import create_token
from service.main import create_app
from service.train_requests import Trainer
from tests.service.databases import PostgresDatabases, SqliteDatabases, postgres_admin_url

AGENT_DEVICE = "dev1"


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_admin_url())
    yield databases
    databases.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty, migrated database of the parametrised backend (isolated per test)."""
    fixture = "sqlite_databases" if backend == "sqlite" else "postgres_databases"
    databases = request.getfixturevalue(fixture)
    with databases.emptied() as url:
        yield url


@pytest.fixture
def own_db_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a migrated database of the test's own (for tests that migrate it up and down)."""
    fixture = "sqlite_databases" if backend == "sqlite" else "postgres_databases"
    with request.getfixturevalue(fixture).fresh() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        predictor_refresh_seconds=0,
        token_cache_seconds=0,
        device_cache_seconds=0,
        prediction_log_flush_seconds=0,  # rows written in the request: tests read them at once
        max_model_bytes=1_000_000,
        audit_rate=0.0,  # no random measurement jobs; the audit tests set their own rate
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def predictor_loader() -> PredictorLoader | None:
    """Overridden by tests that serve predictions through a test predictor."""
    return None


@pytest.fixture
def trainer() -> Trainer | None:
    return None


@pytest.fixture
def client(
    settings: Settings, predictor_loader: PredictorLoader | None, trainer: Trainer | None
) -> Iterator[TestClient]:
    app = create_app(settings, predictor_loader=predictor_loader, trainer=trainer)
    with TestClient(app) as test_client:
        yield test_client


def _token(db: Database, scope: str, device: str | None = None) -> dict[str, str]:
    with db.session(write=True) as session:
        raw = create_token(session, scope, device)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    """Headers with an admin token."""
    return _token(db, "admin")


@pytest.fixture
def client_auth(db: Database) -> dict[str, str]:
    """Headers with a client token."""
    return _token(db, "client")


@pytest.fixture
def agent(db: Database) -> dict[str, str]:
    """Headers with an agent token bound to ``dev1``."""
    return _token(db, "agent", AGENT_DEVICE)


@pytest.fixture
def other_agent(db: Database) -> dict[str, str]:
    """Headers with an agent token bound to ``dev2``."""
    return _token(db, "agent", "dev2")
