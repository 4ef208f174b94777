"""Fixtures of the reliability tests: a fresh PostgreSQL database and a process stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.stack import Stack
from tests.service.databases import PostgresDatabases, postgres_admin_url


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_admin_url())
    yield databases
    databases.close()


@pytest.fixture
def stack(postgres_databases: PostgresDatabases, tmp_path: Path) -> Iterator[Stack]:
    """An empty stack over a fresh migrated PostgreSQL database (replicas started by tests)."""
    with postgres_databases.fresh() as url:
        running = Stack(url, tmp_path)
        try:
            yield running
        finally:
            running.close()
