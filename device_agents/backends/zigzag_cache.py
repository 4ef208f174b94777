"""Per-layer ZigZag results kept on disk, so a layer seen in an earlier model is not searched again.

ZigZag maps and costs every MAC layer on its own, and search-space networks share most of their
layers (an NB201 network has about 12 distinct MAC layers, the whole space a few dozen), so the
mapping search, 1-3 s per layer, is worth doing once per distinct layer and accelerator. The
cache is a SQLite file (safe for several agent processes); the key hashes the layer's
description (:func:`device_agents.backends.zigzag_backend.layer_key`) with everything else the
result depends on: ZigZag's version, the accelerator and mapping files' contents and the search
settings. Location: ``PERFLOOP_AGENT_ZIGZAG_CACHE_DIR`` (default ``~/.cache/perfloop/zigzag``;
``off`` keeps results for one model only).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

DEFAULT_DIR = Path.home() / ".cache" / "perfloop" / "zigzag"
ENV = "PERFLOOP_AGENT_ZIGZAG_CACHE_DIR"


def cache_dir() -> Path | None:
    """The configured cache directory, or None when caching across models is off."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    return Path(value).expanduser() if value else DEFAULT_DIR


class LayerCostCache:
    """``layer key -> (energy pJ, cycles)`` for one accelerator and search setting.

    Args:
        directory: Where the SQLite file lives (created); None keeps results in memory only.
        context: Everything besides the layer that the result depends on.
    """

    def __init__(self, directory: Path | None, context: str) -> None:
        self.context = context
        self.memory: dict[str, tuple[float, float]] = {}
        self.hits = 0
        self.misses = 0
        self.db: sqlite3.Connection | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(directory / "layers.sqlite", timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS layers "
                "(key TEXT PRIMARY KEY, energy_pj REAL NOT NULL, cycles REAL NOT NULL)"
            )
            self.db.commit()

    def _digest(self, layer_key: str) -> str:
        return hashlib.sha256(f"{self.context}\n{layer_key}".encode()).hexdigest()

    def get(self, layer_key: str) -> tuple[float, float] | None:
        """The stored result of an identical layer, counting hits and misses."""
        key = self._digest(layer_key)
        found = self.memory.get(key)
        if found is None and self.db is not None:
            row = self.db.execute(
                "SELECT energy_pj, cycles FROM layers WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:
                found = self.memory[key] = (float(row[0]), float(row[1]))
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, layer_key: str, energy_pj: float, cycles: float) -> None:
        """Store a searched layer's result (committed at once: a crash keeps what was done)."""
        key = self._digest(layer_key)
        self.memory[key] = (energy_pj, cycles)
        if self.db is not None:
            self.db.execute(
                "INSERT OR REPLACE INTO layers (key, energy_pj, cycles) VALUES (?, ?, ?)",
                (key, energy_pj, cycles),
            )
            self.db.commit()

    def close(self) -> None:
        """Close the SQLite connection."""
        if self.db is not None:
            self.db.close()
            self.db = None
