"""Graphs of the benchmark tables' architectures *as the measurements executed them*.

The HELP tables were measured by running the PyTorch (xautodl) network eagerly: every
NAS-Bench-201 edge executes, ``none`` as a multiply by zero, and no dead branch is pruned. The
space's :meth:`to_ir` instead matches an ONNX export, which prunes edges that never reach the
cell output (40% of the archs lose some). For the benchmark the executed graph is the right
input, so NAS-Bench-201 graphs are written here with every edge; other spaces use ``to_ir``.
"""

from __future__ import annotations

from collections.abc import Callable

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


def _edge(w: IRWriter, x: TensorRef, op: str, c: int) -> TensorRef:
    if op == "nor_conv_3x3":
        return w.conv(w.relu(x), c, 3, bias=False)
    if op == "nor_conv_1x1":
        return w.conv(w.relu(x), c, 1, bias=False)
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
    block = w.conv(w.relu(w.conv(w.relu(x), cout, 3, stride=2, bias=False)), cout, 3, bias=False)
    shortcut = w.conv(w.pool("AveragePool", x, 2, 2, 0), cout, 1, bias=False)
    return w.add(shortcut, block)


def nasbench201_executed_ir(arch: str) -> GraphIR:
    """The NAS-Bench-201 network of ``arch`` with every edge executed (BN folded into convs)."""
    ops = parse_arch(arch)
    w = IRWriter(f"nasbench201-executed:{arch}", INPUT_SHAPE)
    x = w.conv(w.input, CHANNELS, 3)
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
        return "nasbench201-executed", nasbench201_executed_ir
    from predictor.spaces.registry import get_space

    return space, get_space(space).to_ir
