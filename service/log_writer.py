"""The prediction log, written in the background in batches (group commit).

Writing each request's log rows in its own transaction put a database write on every
prediction's critical path; on SQLite every such transaction also takes the database-wide write
lock, so 16 concurrent single-model requests queued on it (docs/BENCHMARKS.md "Service"). Here a
request hands its rows (stamped with the time they were served) to a writer thread, which
writes everything queued in one transaction every ``flush_interval_s``.

Guarantees:

- A row reaches the database at most about ``flush_interval_s`` after its prediction was
  served, while the database accepts writes.
- :meth:`PredictionLogWriter.close` (the application's shutdown) writes every queued row before
  it returns; rows it cannot write are reported in the log with their count, never dropped
  silently. Only a crash of the process (SIGKILL, power loss) loses the rows of the last
  interval.
- Bounded memory: with ``max_pending_rows`` rows queued (the database is down or slower than
  the traffic), requests wait for room, and answer 503 ``prediction_log_backlog`` after
  ``max_wait_s``, so a served prediction is never left unlogged because the queue was full.
- A failed write is retried (rows stay queued, in order), backing off up to 5 s between tries.

``flush_interval_s = 0`` writes synchronously in the request (the tests use it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from service.core.db import Database
from service.core.errors import Unavailable
from service.crud import predictions as log_crud
from service.models import utcnow

logger = logging.getLogger(__name__)

#: Rows queued at most before requests wait (about 100 bytes each in memory).
MAX_PENDING_ROWS = 100_000
#: Longest a request waits for room in a full queue before answering 503.
MAX_WAIT_S = 30.0
#: Longest pause between retries while the database refuses the writes.
MAX_RETRY_WAIT_S = 5.0

_Chunk = tuple[datetime, Sequence[log_crud.LogRow]]


class PredictionLogWriter:
    """Queues prediction-log rows and writes them in batches from one background thread."""

    def __init__(
        self,
        db: Database,
        flush_interval_s: float,
        max_pending_rows: int = MAX_PENDING_ROWS,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self._db = db
        self._interval_s = flush_interval_s
        self._max_rows = max_pending_rows
        self._max_wait_s = max_wait_s
        self._cond = threading.Condition()
        self._pending: list[_Chunk] = []
        self._pending_rows = 0  # queued or being written
        self._write_lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, rows: Sequence[log_crud.LogRow]) -> None:
        """Log ``rows`` (served now): queued, or written at once when the interval is 0.

        Raises:
            Unavailable: the queue stayed full for ``max_wait_s`` (503, Retry-After).
        """
        if not rows:
            return
        if self._interval_s <= 0 or self._closed:
            with self._db.session(write=True) as session:
                log_crud.log_many(session, rows)
            return
        with self._cond:
            room = self._cond.wait_for(
                lambda: self._pending_rows + len(rows) <= self._max_rows or not self._pending,
                timeout=self._max_wait_s,
            )
            if not room:
                error = Unavailable(
                    f"{self._pending_rows} prediction-log rows wait for the database; retry later",
                    code="prediction_log_backlog",
                )
                error.headers = {"Retry-After": "5"}  # type: ignore[attr-defined]
                raise error
            self._pending.append((utcnow(), rows))
            self._pending_rows += len(rows)
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="prediction-log-writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        wait_s = self._interval_s
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed, timeout=wait_s)
                if self._closed:
                    return  # close() writes what is left
            # after a failed write, back off (doubling, at most MAX_RETRY_WAIT_S) to spare the log
            ok = self._write_pending()
            wait_s = self._interval_s if ok else min(MAX_RETRY_WAIT_S, 2 * wait_s)

    def _write_pending(self) -> bool:
        """Write every queued chunk in one transaction; returns whether it succeeded."""
        with self._write_lock:  # one writer at a time: the thread, or flush() / close()
            with self._cond:
                chunks, self._pending = self._pending, []
            if not chunks:
                return True
            rows = sum(len(r) for _, r in chunks)
            try:
                with self._db.session(write=True) as session:
                    for served_at, chunk in chunks:
                        log_crud.log_many(session, chunk, created_at=served_at)
            except Exception:  # the database is down or busy: keep the rows, retry later
                logger.exception("cannot write %d prediction-log rows; will retry", rows)
                with self._cond:
                    self._pending[:0] = chunks
                return False
            with self._cond:
                self._pending_rows -= rows
                self._cond.notify_all()
            return True

    def flush(self) -> bool:
        """Write every row queued so far, in the calling thread; returns whether it succeeded."""
        return self._write_pending()

    def close(self) -> None:
        """Stop the writer thread and write what is queued (called at application shutdown).

        Rows that cannot be written (the database is down at shutdown) are reported as lost,
        with their count, at ERROR level.
        """
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self._max_wait_s)
        if not self._write_pending():
            logger.error("prediction log: %d rows lost at shutdown", self._pending_rows)

    @property
    def pending_rows(self) -> int:
        """Rows queued or being written."""
        return self._pending_rows
