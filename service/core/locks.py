"""Process-wide exclusive locks, so that only one trainer runs at a time across processes.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of
its own for as long as the lock is held. SQLite: an ``flock`` on a file beside the database
file (SQLite is single-host, so a host-level lock covers every process that can open it).
Either way the operating system or the server releases the lock when the holder dies (a killed
trainer never leaves a stale lock behind), and a second holder is refused, not queued.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    digest = hashlib.sha256(f"perfloop:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _sqlite_lock_path(engine: Engine, name: str) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("an exclusive lock on SQLite needs a database file, not :memory:")
    return Path(f"{database}.{name}.lock")


class ExclusiveLock:
    """A named lock that at most one process (or one holder in a process) holds at a time."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._conn is not None or self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; returns whether this object now holds it."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._acquire_postgres()
        if self.engine.dialect.name == "sqlite":
            return self._acquire_file()
        raise ValueError(f"no exclusive lock for dialect {self.engine.dialect.name!r}")

    def _acquire_postgres(self) -> bool:
        conn = self.engine.connect()
        try:
            query = text("SELECT pg_try_advisory_lock(:key)")
            got = bool(conn.execute(query, {"key": lock_key(self.name)}).scalar())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _acquire_file(self) -> bool:
        fd = os.open(_sqlite_lock_path(self.engine, self.name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (no-op when not held)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)})
                conn.commit()
            except Exception:  # a broken connection: closing it frees the lock server-side
                logger.warning("advisory unlock of %r failed; closing its connection", self.name)
            finally:
                conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Hold lock ``name`` for the ``with`` block if it is free; yields whether it is held.

    Example::

        with exclusive(state.db.engine, "trainer") as mine:
            if mine:
                run_round(...)
    """
    lock = ExclusiveLock(engine, name)
    got = lock.try_acquire()
    try:
        yield got
    finally:
        lock.release()
