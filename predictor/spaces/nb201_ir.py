"""The NAS-Bench-201 CIFAR network written as graph IR, node by node or from cached fragments.

:func:`write_ir` writes the whole network into one :class:`IRWriter` (the reference).
:func:`fragment_ir` joins cached, immutable fragments instead (stem, cells, reductions, head)
and gives an equal IR tens of times faster. A cell's fragment is written once per live-edge set
(at stage 0) and moved to the other stages by swapping each node for its twin at that width:
every activation of a cell has the stage's shape, so the order, the edges and the live-tensor
count are the same at every stage and the peak scales with the activation size.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from predictor.ir.fragments import Fragment, join_fragments
from predictor.ir.schema import AttrValue, GraphIR, Node, TensorSpec
from predictor.spaces.irgraph import IRWriter, TensorRef, tspec

CHANNELS = 16
CELLS_PER_STAGE = 5
STAGES = 3
CLASSES = 10
INPUT_SHAPE = (1, 3, 32, 32)

#: (target node, source node, op) of one edge that reaches the cell output.
LiveEdge = tuple[int, int, str]
_Steps = tuple[tuple[int, int], ...]

#: Cells that between them hold every kind of node a cell can have (Relu, both convs, pool,
#: Add; Mul of a zero cell), used to pair each stage-0 node with its twin at another stage.
_CATALOG: tuple[tuple[tuple[LiveEdge, ...], bool], ...] = (
    (
        (
            (1, 0, "nor_conv_3x3"),
            (2, 0, "nor_conv_1x1"),
            (3, 0, "avg_pool_3x3"),
            (3, 1, "skip_connect"),
            (3, 2, "skip_connect"),
        ),
        True,
    ),
    ((), False),
)


def write_ir(name: str, edges: tuple[LiveEdge, ...], output_live: bool) -> GraphIR:
    """The network with this cell written node by node into one builder (the reference).

    Args:
        name: the IR's name.
        edges: the cell's live edges (see :func:`predictor.spaces.nasbench201.live_edges`).
        output_live: whether the cell output is non-zero.
    """
    w = IRWriter(name, INPUT_SHAPE)
    x = _stem(w, w.input)
    for stage in range(STAGES):
        if stage > 0:
            x = _reduction(w, x, _stage_shape(stage)[1])
        for _ in range(CELLS_PER_STAGE):
            x = _cell(w, x, edges, output_live)
    return w.finish((_head(w, x, w.producer_op(x) != "Conv"),))


def fragment_ir(name: str, edges: tuple[LiveEdge, ...], output_live: bool) -> GraphIR:
    """The same IR as :func:`write_ir`, joined from cached fragments."""
    cells = _cell_fragments(edges, output_live)
    pieces = [_stem_fragment()]
    for stage in range(STAGES):
        if stage > 0:
            pieces.append(_reduction_fragment(stage))
        pieces.extend([cells[stage]] * CELLS_PER_STAGE)
    last_op = next(p.output_op for p in reversed(pieces) if p.output_node is not None)
    pieces.append(_head_fragment(last_op != "Conv"))
    return join_fragments(name, pieces)


def _stage_shape(stage: int) -> tuple[int, int, int, int]:
    """Shape of the tensors between the cells of ``stage`` (each reduction halves the size)."""
    n, _, h, w = INPUT_SHAPE
    return (n, CHANNELS << stage, h >> stage, w >> stage)


@lru_cache(maxsize=1)
def _stem_fragment() -> Fragment:
    w = IRWriter("nasbench201:stem", INPUT_SHAPE)
    return w.fragment(_stem(w, w.input))


@lru_cache(maxsize=2)
def _head_fragment(batchnorm: bool) -> Fragment:
    w = IRWriter("nasbench201:head", _stage_shape(STAGES - 1))
    return w.fragment(_head(w, w.input, batchnorm))


@lru_cache(maxsize=STAGES)
def _reduction_fragment(stage: int) -> Fragment:
    w = IRWriter(f"nasbench201:reduction{stage}", _stage_shape(stage - 1))
    return w.fragment(_reduction(w, w.input, _stage_shape(stage)[1]))


def _written_cell(edges: tuple[LiveEdge, ...], output_live: bool, stage: int) -> Fragment:
    w = IRWriter(f"nasbench201:cell{stage}", _stage_shape(stage))
    return w.fragment(_cell(w, w.input, edges, output_live))


#: What tells the nodes of one cell apart: all its activations have the stage's shape.
_Kind = tuple[str, tuple[tuple[str, AttrValue], ...]]


def _kind(node: Node) -> _Kind:
    return node.op_type, node.attrs


@lru_cache(maxsize=STAGES)
def _twins(stage: int) -> dict[_Kind, Node]:
    """Node kind -> that cell node at ``stage`` (one shared object per kind)."""
    twins: dict[_Kind, Node] = {}
    for edges, output_live in _CATALOG:
        for node in _written_cell(edges, output_live, stage).nodes:
            if twins.setdefault(_kind(node), node) != node:
                raise ValueError(f"two different {node.op_type} nodes in one NB201 cell")
    return twins


@lru_cache(maxsize=1)
def _conv1x1_kind() -> _Kind:
    return next(k for k in _twins(0) if k[0] == "Conv" and dict(k[1])["kernel_shape"] == (1, 1))


@lru_cache(maxsize=4096)
def _cell_template(edges: tuple[LiveEdge, ...], output_live: bool) -> tuple[Fragment, _Steps]:
    """The stage-0 cell and, per conv edge, ``(edge index, step of its Conv node)``.

    Templates are shared by cells that differ only in conv kernel sizes (same topology).
    """
    w = IRWriter("nasbench201:cell", _stage_shape(0))
    convs: dict[int, TensorRef] = {}
    out = _cell(w, w.input, edges, output_live, convs)
    steps = w.builder.steps(list(convs.values()))
    return w.fragment(out), tuple(
        (i, s) for i, s in zip(convs, steps, strict=True) if s is not None
    )


@lru_cache(maxsize=16384)
def _cell_fragments(edges: tuple[LiveEdge, ...], output_live: bool) -> tuple[Fragment, ...]:
    """The cell at each stage: a shared template with each node swapped for its stage twin."""
    base, conv_steps = _cell_template(tuple(map(_as_conv3x3, edges)), output_live)
    shape = tspec(_stage_shape(0))
    live, rest = divmod(base.peak_activation_bytes, shape.nbytes)
    kinds = [_kind(n) for n in base.nodes]
    for i, step in conv_steps:
        if edges[i][2] == "nor_conv_1x1":
            kinds[step] = _conv1x1_kind()
    plain = not rest and all(_keeps(n, shape) for n in base.nodes)
    cells = []
    for stage in range(STAGES):
        twins = _twins(stage)
        if not plain or any(k not in twins for k in kinds):  # not a plain cell: write it out
            cells.append(_written_cell(edges, output_live, stage))
            continue
        spec = tspec(_stage_shape(stage))
        nodes = tuple(twins[k] for k in kinds)
        peak = live * spec.nbytes
        cells.append(
            dataclasses.replace(
                base, nodes=nodes, input=spec, output=spec, peak_activation_bytes=peak
            )
        )
    return tuple(cells)


def _keeps(node: Node, shape: TensorSpec) -> bool:
    """Whether ``node`` reads and writes tensors of ``shape`` only (first input checked)."""
    (out,) = node.outputs
    first = node.inputs[0]
    return (out is shape or out == shape) and (first is shape or first == shape)


def _as_conv3x3(edge: LiveEdge) -> LiveEdge:
    return (edge[0], edge[1], "nor_conv_3x3") if edge[2] == "nor_conv_1x1" else edge


def _stem(w: IRWriter, x: TensorRef) -> TensorRef:
    return w.conv(x, CHANNELS, 3)


def _head(w: IRWriter, x: TensorRef, batchnorm: bool) -> TensorRef:
    if batchnorm:  # a conv read only here absorbs the BN (importer fold)
        x = w.batchnorm(x)
    x = w.relu(x)
    return w.linear(w.flatten(w.global_avgpool(x)), CLASSES)


def _cell(
    w: IRWriter,
    x: TensorRef,
    edges: tuple[LiveEdge, ...],
    output_live: bool,
    convs: dict[int, TensorRef] | None = None,
) -> TensorRef:
    """Write one cell; ``convs`` (if given) gets edge index -> output of each conv edge."""
    if not output_live:
        return w.scalar("Mul", x)
    nodes: dict[int, TensorRef] = {0: x}
    c = w.shape(x)[1]
    for i, (target, source, op) in enumerate(edges):
        y = _edge(w, nodes[source], op, c)
        if convs is not None and op.startswith("nor_conv"):
            convs[i] = y
        nodes[target] = w.add(nodes[target], y) if target in nodes else y
    return nodes[3]


def _edge(w: IRWriter, x: TensorRef, op: str, c: int) -> TensorRef:
    if op == "nor_conv_3x3":
        return w.conv(w.relu(x), c, 3)
    if op == "nor_conv_1x1":
        return w.conv(w.relu(x), c, 1)
    if op == "avg_pool_3x3":
        return w.pool("AveragePool", x, 3, 1, 1)
    return x


def _reduction(w: IRWriter, x: TensorRef, cout: int) -> TensorRef:
    block = w.conv(w.relu(w.conv(w.relu(x), cout, 3, stride=2)), cout, 3)
    shortcut = w.conv(w.pool("AveragePool", x, 2, 2, 0), cout, 1, bias=False)
    return w.add(shortcut, block)
