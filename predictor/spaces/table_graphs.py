"""Graphs of the benchmark tables' architectures *as the measurements executed them*.

The HELP tables were measured by running the PyTorch (xautodl) network eagerly: every
NAS-Bench-201 edge executes (ReLU -> Conv -> BatchNorm kernels, ``none`` as a multiply by zero),
nothing is pruned, folded or shared. The space's :meth:`to_ir` instead matches an ONNX export,
which prunes edges that never reach the cell output (40% of the archs lose some), folds BN into
the convs and shares one ReLU between edges. For the benchmark the executed graph is the right
input, so NAS-Bench-201 graphs are written here as executed; other spaces use ``to_ir``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from predictor.ir.schema import GraphIR
from predictor.spaces.irgraph import IRWriter, TensorRef
from predictor.spaces.nasbench201 import (
    CELLS_PER_STAGE,
    CHANNELS,
    CLASSES,
    EDGES,
    INPUT_SHAPE,
    parse_arch,
)


class _EagerWriter(IRWriter):
    """An :class:`IRWriter` without common-subexpression sharing (eager runs every module)."""

    def node(self, *args: Any, **kwargs: Any) -> TensorRef:
        """Add one node; never reuse an earlier identical one."""
        self._memo.clear()
        return super().node(*args, **kwargs)


def _relu_conv_bn(w: IRWriter, x: TensorRef, c: int, kernel: int, stride: int = 1) -> TensorRef:
    return w.batchnorm(w.conv(w.relu(x), c, kernel, stride=stride, bias=False))


def _edge(w: IRWriter, x: TensorRef, op: str, c: int) -> TensorRef:
    if op == "nor_conv_3x3":
        return _relu_conv_bn(w, x, c, 3)
    if op == "nor_conv_1x1":
        return _relu_conv_bn(w, x, c, 1)
    if op == "avg_pool_3x3":
        return w.pool("AveragePool", x, 3, 1, 1)
    if op == "none":
        return w.scalar("Mul", x)
    return x


def _cell(w: IRWriter, x: TensorRef, ops: tuple[str, ...]) -> TensorRef:
    nodes: dict[int, TensorRef] = {0: x}
    c = w.shape(x)[1]
    for (target, source), op in zip(EDGES, ops, strict=True):
        y = _edge(w, nodes[source], op, c)
        nodes[target] = w.add(nodes[target], y) if target in nodes else y
    return nodes[3]


def _reduction(w: IRWriter, x: TensorRef, cout: int) -> TensorRef:
    block = _relu_conv_bn(w, _relu_conv_bn(w, x, cout, 3, stride=2), cout, 3)
    shortcut = w.conv(w.pool("AveragePool", x, 2, 2, 0), cout, 1, bias=False)
    return w.add(shortcut, block)


def nasbench201_executed_ir(arch: str) -> GraphIR:
    """The NAS-Bench-201 network of ``arch`` as eager PyTorch executes it (see module doc)."""
    ops = parse_arch(arch)
    w = _EagerWriter(f"nasbench201-executed:{arch}", INPUT_SHAPE)
    x = w.batchnorm(w.conv(w.input, CHANNELS, 3, bias=False))
    c = CHANNELS
    for stage in range(3):
        if stage > 0:
            x = _reduction(w, x, 2 * c)
            c *= 2
        for _ in range(CELLS_PER_STAGE):
            x = _cell(w, x, ops)
    x = w.relu(w.batchnorm(x))
    x = w.linear(w.flatten(w.global_avgpool(x)), CLASSES)
    return w.finish((x,))


def graph_builder(space: str) -> tuple[str, Callable[[str], GraphIR]]:
    """``(cache name, arch -> GraphIR)`` for a benchmark space."""
    if space == "nasbench201":
        return "nasbench201-eager", nasbench201_executed_ir
    from predictor.spaces.registry import get_space

    return space, get_space(space).to_ir
