"""Shared helpers for the search-space tests."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from predictor.data.shared import shared_data_dir
from predictor.spaces import SearchSpace

#: The shared measured tables (a path that does not exist when they are not on this machine).
MEASURED_DATA = shared_data_dir() or Path("shared-data-not-found")


def small_specs(space: SearchSpace, count: int, seed: int = 0, pool: int = 8) -> list[Any]:
    """``count`` distinct seeded samples with the fewest MACs out of ``count * pool`` draws.

    Keeps the export-based tests quick while still varying the specs from seed to seed.
    """
    rng = random.Random(seed)
    drawn = {space.encode(s): s for s in (space.sample(rng) for _ in range(count * pool))}
    ranked = sorted(drawn.items(), key=lambda item: (space.to_ir(item[1]).macs, item[0]))
    return [spec for _, spec in ranked[:count]]


@pytest.fixture
def pick_small() -> Callable[..., list[Any]]:
    """The :func:`small_specs` helper as a fixture."""
    return small_specs


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Batch-1 forward passes run faster on one thread than on a pool fighting for 2 cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
