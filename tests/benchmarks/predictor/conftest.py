"""Tiny hand-made graphs for the predictor benchmark tests."""

from __future__ import annotations

import pytest

from predictor.ir.schema import GraphIR
from tests.predictor.conftest import tiny_graph


@pytest.fixture(scope="session")
def tiny_graphs() -> list[GraphIR]:
    """Eight distinct tiny graphs."""
    return [tiny_graph(c, k, r) for c in (4, 8) for k in (1, 3) for r in (False, True)]
