"""The local spool: every result is written here before it is uploaded, and removed only after
the server has acknowledged it. One JSON file per result, named by its idempotency key, written
atomically (temporary file, fsync, rename, fsync of the directory)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from device_agents.schemas import Measurement

logger = logging.getLogger(__name__)


class SpoolEntry(BaseModel):
    """A result waiting for upload: the measurement and the job it completes (if any)."""

    job_id: int | None
    measurement: Measurement


class Spool:
    """A directory of pending results.

    One agent per directory: a ``.tmp`` file found on start is the unfinished write of an agent
    that was killed before the result was durable (its job is measured again after the lease
    expires), so it is deleted.

    Args:
        directory: Where the files live (created when missing).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        for partial in self.directory.glob("*.tmp"):
            logger.warning("removing unfinished spool write %s", partial)
            partial.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        if "/" in key or key.startswith("."):
            raise ValueError(f"bad idempotency key {key!r}")
        return self.directory / f"{key}.json"

    def put(self, entry: SpoolEntry) -> Path:
        """Write an entry durably (atomic rename after fsync) and return its path."""
        path = self._path(entry.measurement.idempotency_key)
        tmp = path.with_suffix(".tmp")
        data = entry.model_dump_json().encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        return path

    def remove(self, key: str) -> None:
        """Forget an entry once the server has acknowledged it."""
        self._path(key).unlink(missing_ok=True)
        _fsync_dir(self.directory)

    def pending(self) -> Iterator[SpoolEntry]:
        """Yield the pending entries, oldest first; unreadable files are logged and skipped."""
        files = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for path in files:
            try:
                yield SpoolEntry.model_validate(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                logger.error("skipping unreadable spool file %s: %s", path, exc)

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
