"""Fixtures of the reliability tests: a fresh PostgreSQL database and a process stack."""

from __future__ import annotations

import os
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """These tests start processes, kill them and restart PostgreSQL: they run alone, serially,
    through ``make reliability`` (PERFLOOP_RELIABILITY=1), never inside ``make test``."""
    if os.environ.get("PERFLOOP_RELIABILITY") == "1":
        return
    skip = pytest.mark.skip(reason="reliability test: run with `make reliability`")
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(skip)
