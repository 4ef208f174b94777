"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and transactions are begun explicitly so a
write path can ask for ``BEGIN IMMEDIATE`` (taking the write lock up front, which keeps job
leasing safe across processes): bind a session to ``write_engine(engine)`` for that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

_BEGIN_OPTION = "perfloop_sqlite_begin"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and explicit transaction control."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):  # a down server fails fast (503), never hangs a request
        connect_args = {"options": "-c timezone=UTC", "connect_timeout": 5}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def write_engine(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions begin IMMEDIATE (write lock up front)."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


class Database:
    """An engine with a read session factory and a write (IMMEDIATE on SQLite) one."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine(self.engine), expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        factory = self._write if write else self._read
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
