"""Tiny hand-made graphs shared by the predictor tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR, TensorSpec


def tiny_graph(channels: int = 8, kernel: int = 3, extra_relu: bool = False) -> GraphIR:
    """Conv -> Relu (-> Relu) -> GlobalAveragePool -> Flatten -> Gemm on a 1x3x8x8 input."""
    b = GraphBuilder("tiny")
    x = b.add_input((1, 3, 8, 8))
    (y,) = b.add_node(
        "Conv",
        [x],
        [TensorSpec((1, channels, 8, 8))],
        weights=[TensorSpec((channels, 3, kernel, kernel))],
        attrs={"kernel_shape": (kernel, kernel), "strides": (1, 1), "group": 1},
    )
    (y,) = b.add_node("Relu", [y], [TensorSpec((1, channels, 8, 8))])
    if extra_relu:
        (y,) = b.add_node("Relu", [y], [TensorSpec((1, channels, 8, 8))])
    (y,) = b.add_node("GlobalAveragePool", [y], [TensorSpec((1, channels, 1, 1))])
    (y,) = b.add_node("Flatten", [y], [TensorSpec((1, channels))])
    (y,) = b.add_node(
        "Gemm", [y], [TensorSpec((1, 10))], weights=[TensorSpec((10, channels)), TensorSpec((10,))]
    )
    b.mark_output(y)
    return b.build()


@pytest.fixture(name="tiny_graph")
def tiny_graph_fixture() -> Callable[..., GraphIR]:
    """The :func:`tiny_graph` factory."""
    return tiny_graph


@pytest.fixture(scope="session")
def tiny_graphs() -> list[GraphIR]:
    """Eight distinct tiny graphs."""
    return [tiny_graph(c, k, r) for c in (4, 8) for k in (1, 3) for r in (False, True)]
