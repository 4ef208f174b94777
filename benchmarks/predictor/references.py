"""Rows of a table holding a space's reference architectures (measured first by every device)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)


def reference_archs(space: str) -> list[str]:
    """The space's reference architectures as table ``arch`` strings ([] when not published)."""
    from predictor.spaces.datafiles import DATA_DIR, REFERENCE_FILE, load_reference_archs
    from predictor.spaces.registry import get_space

    if not (DATA_DIR / REFERENCE_FILE).is_file():
        logger.warning("no %s; the support sets are random", DATA_DIR / REFERENCE_FILE)
        return []
    specs = load_reference_archs().get(space, [])
    sp = get_space(space)
    return [s if isinstance(s, str) else sp.encode(s) for s in specs]


def reference_rows(archs: Sequence[str], space: str) -> list[int]:
    """Row indices (into ``archs``) of the space's reference architectures, in their order."""
    index = {a: i for i, a in enumerate(archs)}
    return [index[a] for a in reference_archs(space) if a in index]
