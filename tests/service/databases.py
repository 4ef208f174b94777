"""Test databases: one migrated template per session and backend, a fresh copy per test.

SQLite: the template is a migrated file, copied for each test. PostgreSQL: one migrated
database per session (unique name) whose tables are emptied (TRUNCATE) after each test, and
``CREATE DATABASE ... TEMPLATE`` copies for tests that need a database of their own (migration
tests); all are dropped at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

from service.core.db import make_engine
from service.migrate import upgrade
from service.models import Base

TABLES = tuple(f'"{t.name}"' for t in Base.metadata.sorted_tables)

POSTGRES_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def postgres_admin_url() -> URL:
    """URL of the server's maintenance database (env PERFLOOP_TEST_POSTGRES_URL or defaults).

    Raises:
        RuntimeError: no PostgreSQL server answers (CI starts one; run ``pg_isready``).
    """
    candidates = (
        [os.environ["PERFLOOP_TEST_POSTGRES_URL"]]
        if "PERFLOOP_TEST_POSTGRES_URL" in os.environ
        else list(POSTGRES_URLS)
    )
    errors = []
    for candidate in candidates:
        url = make_url(candidate)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except Exception as exc:  # try the next user name
            errors.append(f"{candidate}: {type(exc).__name__}: {exc}")
        finally:
            engine.dispose()
    raise RuntimeError("PostgreSQL unreachable for the postgres tests: " + "; ".join(errors))


class PostgresDatabases:
    """Creates and drops uniquely named databases on one server."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.prefix = f"perfloop_t_{uuid.uuid4().hex[:10]}"
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._created: list[str] = []
        self._shared: str | None = None
        self.template = self.create()
        engine = make_engine(self.url(self.template).render_as_string(hide_password=False))
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def url(self, name: str) -> URL:
        """URL of database ``name``."""
        return self.admin_url.set(database=name)

    def create(self, template: str | None = None) -> str:
        """Create a database (optionally from the migrated template) and return its name."""
        name = f"{self.prefix}_{len(self._created)}"
        clause = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self._created.append(name)
        return name

    def drop(self, name: str) -> None:
        """Drop database ``name`` (terminating leftover connections)."""
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop every database this object created."""
        for name in reversed(self._created):
            self.drop(name)
        self._admin.dispose()

    @contextmanager
    def fresh(self, migrated: bool = True) -> Iterator[str]:
        """A new database URL (migrated copy of the template, or empty), dropped afterwards."""
        name = self.create(self.template if migrated else None)
        try:
            yield self.url(name).render_as_string(hide_password=False)
        finally:
            self.drop(name)

    @contextmanager
    def emptied(self) -> Iterator[str]:
        """The session's migrated database, all tables emptied afterwards (fast isolation)."""
        if self._shared is None:
            self._shared = self.create(self.template)
        url = self.url(self._shared).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            engine = create_engine(url)
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            finally:
                engine.dispose()


class SqliteDatabases:
    """A migrated SQLite template file copied for each test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.sqlite3"
        engine = make_engine(f"sqlite:///{self.template}")
        try:
            upgrade(engine)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()

    def emptied(self) -> contextlib.AbstractContextManager[str]:
        """A fresh migrated copy (copying a file is as cheap as emptying one)."""
        return self.fresh()

    @contextmanager
    def fresh(self, migrated: bool = True) -> Iterator[str]:
        """A new database file URL (migrated copy of the template, or empty)."""
        path = self.root / f"db-{uuid.uuid4().hex[:10]}.sqlite3"
        if migrated:
            shutil.copyfile(self.template, path)
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
