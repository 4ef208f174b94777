"""Where the shared measured tables live: a setting, or ``../shared/data`` of the repository.

The measured latency tables (NAS-Bench-201, FBNet, ...) are never copied into the repository.
They are found, in order: the directory named by ``PERFLOOP_SHARED_DATA``; ``shared/data`` or
``../shared/data`` from the working directory or any folder above it; ``../shared/data`` next to
the checkout this package runs from.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the shared-data directory (overrides every search).
SHARED_DATA_ENV = "PERFLOOP_SHARED_DATA"
_RELATIVE = ("shared/data", "../shared/data")


def shared_data_candidates(start: Path | None = None) -> list[Path]:
    """Every directory searched for the shared tables, in search order (existing or not)."""
    setting = os.environ.get(SHARED_DATA_ENV)
    if setting:
        return [Path(setting).expanduser().resolve()]
    base = (start or Path.cwd()).resolve()
    found = [(folder / rel).resolve() for folder in [base, *base.parents] for rel in _RELATIVE]
    # predictor/data/shared.py -> the checkout root is three levels up
    checkout = Path(__file__).resolve().parents[2]
    found.append((checkout.parent / "shared" / "data").resolve())
    return list(dict.fromkeys(found))


def find_shared_file(name: str, start: Path | None = None) -> Path | None:
    """The first ``name`` in :func:`shared_data_candidates`, or None when there is none."""
    for folder in shared_data_candidates(start):
        if (folder / name).exists():
            return folder / name
    return None


def shared_data_dir(start: Path | None = None) -> Path | None:
    """The first existing directory of :func:`shared_data_candidates`, or None."""
    return next((d for d in shared_data_candidates(start) if d.is_dir()), None)
