"""On-disk memo of meta-trained ensemble predictions, so few-shot head changes re-run cheaply.

The few-shot benchmark spends nearly all its time meta-training; the adaptation step only needs
the members' log predictions ``[members, archs, train devices]``. They are stored under
:func:`predictor.features.cache.cache_dir`, keyed by everything that determines them: the fit
settings, meta-train devices, the meta-train target matrix, the architecture list and the IR and
featurizer versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from predictor.features.cache import FEATURE_VERSION, cache_dir
from predictor.ir.schema import IR_VERSION

logger = logging.getLogger(__name__)


def member_log_key(
    space: str,
    archs: Sequence[str],
    train_devices: Sequence[str],
    targets: np.ndarray,
    settings: dict[str, object],
) -> str:
    """Hex digest naming one meta-training (same inputs, same key)."""
    h = hashlib.sha256()
    head = {
        "space": space,
        "ir": IR_VERSION,
        "features": FEATURE_VERSION,
        "devices": list(train_devices),
        "settings": settings,
    }
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    h.update("\n".join(archs).encode())
    h.update(np.ascontiguousarray(targets, dtype=np.float64).tobytes())
    return h.hexdigest()[:20]


def memo_member_log(
    key: str, compute: Callable[[], np.ndarray], directory: Path | None = None
) -> tuple[np.ndarray, bool]:
    """The stored array for ``key``, or ``compute()`` stored under it; and whether it was stored.

    Args:
        key: from :func:`member_log_key`.
        compute: meta-trains and returns the member log predictions.
        directory: where to store (default: the perfloop cache directory).
    """
    path = (directory or cache_dir()) / f"fewshot-memberlog-{key}.npy"
    if path.exists():
        logger.info("meta-trained predictions from %s", path)
        return np.load(path), True
    values = compute()
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, values)
    tmp.replace(path)
    return values, False
