"""Suite-wide: caches that outlive a process point into the test session's temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _zigzag_layer_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ZigZag's per-layer cache (agents started by tests inherit it) stays out of ``~/.cache``."""
    key = "PERFLOOP_AGENT_ZIGZAG_CACHE_DIR"
    previous = os.environ.get(key)
    os.environ[key] = str(tmp_path_factory.mktemp("zigzag-cache"))
    yield
    if previous is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = previous
