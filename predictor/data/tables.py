"""Latency tables: one row per architecture (``arch`` string), one column per device (ms).

Raw stage: CSV files (optionally gzip) with columns ``arch_index``? , ``arch``, then devices.
Processed stage: :class:`LatencyTable`, several files joined on ``arch``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from predictor.data.shared import SHARED_DATA_ENV, find_shared_file

SPACE_FILES: dict[str, str] = {
    "nasbench201": "nasbench201_latency_ms.csv.gz",
    "fbnet": "fbnet_latency_ms.csv.gz",
}
_SKIP_COLUMNS = {"arch_index", "arch"}


@dataclass(frozen=True)
class LatencyTable:
    """Architectures x devices latency matrix in ms; NaN where a device has no value."""

    archs: tuple[str, ...]
    devices: tuple[str, ...]
    latency_ms: np.ndarray

    def column(self, device: str) -> np.ndarray:
        """Latencies of one device (NaN where missing).

        Raises:
            KeyError: unknown device (the message lists the valid ones).
        """
        if device not in self.devices:
            raise KeyError(f"device {device!r} not in table; devices: {', '.join(self.devices)}")
        return self.latency_ms[:, self.devices.index(device)]

    def select(self, devices: Sequence[str]) -> np.ndarray:
        """Matrix of the given device columns, in order."""
        return np.stack([self.column(d) for d in devices], axis=1)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8", newline="")


def _parse(value: str) -> float:
    value = value.strip()
    return float(value) if value else float("nan")


def read_table(path: Path) -> LatencyTable:
    """Read one CSV table.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: no ``arch`` column or no device column.
    """
    if not path.exists():
        raise FileNotFoundError(f"latency table {path} not found")
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if "arch" not in header:
            raise ValueError(f"{path}: no 'arch' column (columns: {header})")
        arch_col = header.index("arch")
        dev_cols = [i for i, h in enumerate(header) if h not in _SKIP_COLUMNS]
        if not dev_cols:
            raise ValueError(f"{path}: no device columns")
        archs: list[str] = []
        rows: list[list[float]] = []
        for row in reader:
            archs.append(row[arch_col])
            rows.append([_parse(row[i]) for i in dev_cols])
    devices = tuple(header[i] for i in dev_cols)
    return LatencyTable(tuple(archs), devices, np.asarray(rows, dtype=np.float64))


def join_tables(tables: Sequence[LatencyTable]) -> LatencyTable:
    """Outer-join tables on ``arch``; a device in several tables keeps the first value seen."""
    archs: dict[str, int] = {}
    devices: list[str] = []
    for t in tables:
        for a in t.archs:
            archs.setdefault(a, len(archs))
        devices.extend(d for d in t.devices if d not in devices)
    out = np.full((len(archs), len(devices)), np.nan)
    for t in tables:
        rows = np.asarray([archs[a] for a in t.archs], dtype=np.int64)
        for j, d in enumerate(t.devices):
            col = devices.index(d)
            fill = np.isnan(out[rows, col])
            out[rows[fill], col] = t.latency_ms[fill, j]
    return LatencyTable(tuple(archs), tuple(devices), out)


def load_tables(paths: Sequence[Path]) -> LatencyTable:
    """Read and join several tables."""
    if not paths:
        raise ValueError("no latency table given")
    return join_tables([read_table(Path(p)) for p in paths])


def default_table_path(space: str, start: Path | None = None) -> Path:
    """The space's table in the shared data (see :mod:`predictor.data.shared`).

    Raises:
        KeyError: the space has no measured table.
        FileNotFoundError: no such file found (the message names where it looked).
    """
    if space not in SPACE_FILES:
        raise KeyError(f"space {space!r} has no default table; spaces: {', '.join(SPACE_FILES)}")
    found = find_shared_file(SPACE_FILES[space], start)
    if found is None:
        raise FileNotFoundError(
            f"no default latency table for {space!r}; looked for {SPACE_FILES[space]} in "
            f"shared/data above {(start or Path.cwd()).resolve()}, next to the checkout and in "
            f"${SHARED_DATA_ENV}; pass --data CSV"
        )
    return found
