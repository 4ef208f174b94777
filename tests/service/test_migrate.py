"""Migrations: head agrees with the models; every revision walks up and down (stairway)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from service.core.db import make_engine
from service.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from service.models import Base


@pytest.fixture
def empty_engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    fixture = "sqlite_databases" if backend == "sqlite" else "postgres_databases"
    with request.getfixturevalue(fixture).fresh(migrated=False) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_head_matches_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_stairway(empty_engine: Engine) -> None:
    revisions = _revisions()
    assert revisions, "no migration scripts found"
    previous = "base"
    for revision in revisions:
        upgrade(empty_engine, revision)
        assert current_revision(empty_engine) == revision
        downgrade(empty_engine, previous)
        assert current_revision(empty_engine) == (None if previous == "base" else previous)
        upgrade(empty_engine, revision)
        previous = revision
    downgrade(empty_engine, "base")
    tables = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
