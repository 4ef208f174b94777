"""Suite-wide: caches that outlive a process point into the test session's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _zigzag_layer_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ZigZag's per-layer cache (agents started by tests inherit it) stays out of ``~/.cache``."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PERFLOOP_AGENT_ZIGZAG_CACHE_DIR", str(tmp_path_factory.mktemp("zigzag-cache")))
        yield
