"""On-disk cache of featurized search-space datasets (raw graphs -> processed tensors).

Keyed by space name, IR version, featurizer version and a hash of the architecture list, so a
benchmark featurizes 15,625 NAS-Bench-201 graphs once. Location: ``$PERFLOOP_CACHE_DIR`` or
``~/.cache/perfloop``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch_geometric.data import Data

from predictor.features.featurizer import featurize
from predictor.ir.schema import IR_VERSION, GraphIR

logger = logging.getLogger(__name__)

#: Bump when :func:`featurize` changes its output.
FEATURE_VERSION = 1


def cache_dir() -> Path:
    """The cache directory (created on demand)."""
    root = os.environ.get("PERFLOOP_CACHE_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "perfloop"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(space: str, archs: Sequence[str]) -> str:
    """File name for a space's featurized architecture list."""
    digest = hashlib.sha256("\n".join(archs).encode()).hexdigest()[:16]
    return f"{space}-ir{IR_VERSION}-feat{FEATURE_VERSION}-{digest}.pt"


def featurize_archs(
    space: str,
    archs: Sequence[str],
    to_ir: Callable[[str], GraphIR],
    directory: Path | None = None,
) -> list[Data]:
    """Featurized graphs of ``archs`` (one per arch, same order), from cache when present."""
    path = (directory or cache_dir()) / cache_key(space, archs)
    if path.exists():
        data: list[Data] = torch.load(path, weights_only=False)
        if len(data) == len(archs):
            return data
        logger.warning(
            "cache %s has %d graphs, expected %d; rebuilding", path, len(data), len(archs)
        )
    start = time.perf_counter()
    data = [featurize(to_ir(a)) for a in archs]
    logger.info("featurized %d %s graphs in %.1fs", len(data), space, time.perf_counter() - start)
    tmp = path.with_suffix(".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    return data
