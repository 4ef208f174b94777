"""Graph rewrites that make different exporters' graphs of one network identical.

Each pass is a small function over a :class:`WorkGraph`:

* BatchNormalization after a Conv or an ungrouped ConvTranspose (constant statistics, conv output
  read once) folds into the conv's weight and bias. Checked with torch 2.13 in eval mode: both
  exporters fold BN after a Conv; only the dynamo exporter folds BN after a ConvTranspose.
  Folding here makes them agree and keeps models exported in training mode or by other tools on
  the same IR.
* ``MatMul(x, W)`` with a constant 2-D ``W`` (plus a following ``Add`` of a constant bias) and
  ``Gemm`` become one canonical ``Gemm`` with weight ``(N, K)`` (torch ``Linear`` layout) and an
  optional bias ``(N,)``; alpha/beta are folded into the constants.
* ``ReduceMean`` over all spatial axes becomes ``GlobalAveragePool`` (plus a ``Reshape`` when
  ``keepdims=0``).
* ``Flatten``, ``Squeeze``, ``Unsqueeze`` and ``Transpose`` that only moves size-1 axes become
  ``Reshape``; chains of reshapes collapse to one; reshapes that keep the shape disappear.
* Adds of all-zero constants and all-zero Conv/Gemm biases disappear (exporters' optimisers
  remove some of them and not others).
* Slices that cut one axis of a tensor into consecutive pieces become one ``Split`` (TorchScript
  exports ``chunk`` as Slices, dynamo as Split); consecutive Transposes compose into one
  (TorchScript fuses them, dynamo does not), and identity Transposes go.
* Repeated weight-free nodes (same op, inputs, attributes and output shapes) collapse into one,
  as the TorchScript exporter's CSE does and the dynamo exporter does not.
* Unused optional outputs (LSTM ``Y_h``/``Y_c``, MaxPool indices, ...) and dead nodes go.
"""

from __future__ import annotations

import numpy as np

from predictor.ir.graph_only import contiguous, is_placeholder
from predictor.ir.schema import TensorSpec
from predictor.ir.work_graph import OpNode, WorkGraph

_RESHAPES = frozenset({"Flatten", "Squeeze", "Unsqueeze", "Reshape"})
_OPTIONAL_OUTPUT_OPS = frozenset(
    {"LSTM", "GRU", "RNN", "BatchNormalization", "MaxPool", "LayerNormalization", "Dropout"}
)


def canonicalize(graph: WorkGraph) -> None:
    """Run every rewrite pass in order (idempotent)."""
    fold_batchnorm(graph)
    canonical_linear(graph)
    drop_zero_bias(graph)
    reduce_mean_to_global_pool(graph)
    slices_to_split(graph)
    for _ in range(2):  # each pass can expose work for the other
        compose_transposes(graph)
        canonical_reshapes(graph)
    drop_unused_outputs(graph)
    eliminate_common_subexpressions(graph)
    remove_dead_nodes(graph)


def _single_reader(graph: WorkGraph, value: str) -> OpNode | None:
    readers = graph.consumers(value)
    if len(readers) == 1 and graph.uses(value) == 1:
        return readers[0]
    return None


def _consts(graph: WorkGraph, names: list[str]) -> list[np.ndarray] | None:
    if not all(n and graph.is_const(n) for n in names):
        return None
    return [graph.consts[n].astype(np.float64) for n in names]


def fold_batchnorm(graph: WorkGraph) -> None:
    """Fold ``Conv|ConvTranspose -> BatchNormalization`` into the conv's weight and bias."""
    for bn in graph.walk():
        if bn.op != "BatchNormalization" or len(bn.inputs) < 5:
            continue
        if any(o and graph.uses(o) for o in bn.outputs[1:]):  # training-mode statistics read
            continue
        conv = graph.producer(bn.inputs[0])
        if conv is None or _single_reader(graph, bn.inputs[0]) is not bn:
            continue
        transposed = conv.op == "ConvTranspose" and int(conv.attrs.get("group", 1)) == 1
        if conv.op != "Conv" and not transposed:
            continue
        params = _consts(graph, bn.inputs[1:5])
        weight = conv.inputs[1] if len(conv.inputs) > 1 else ""
        if params is None or not graph.is_const(weight):
            continue
        scale, shift, mean, var = params
        factor = scale / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
        w = graph.consts[weight]
        has_bias = len(conv.inputs) > 2 and graph.is_const(conv.inputs[2])
        bias = graph.consts[conv.inputs[2]].astype(np.float64) if has_bias else 0.0
        axis_shape = (1, -1) if transposed else (-1,)  # output channels: axis 1 / axis 0
        new_w = (w * factor.reshape(*axis_shape, *([1] * (w.ndim - len(axis_shape))))).astype(
            w.dtype
        )
        new_b = ((bias - mean) * factor + shift).astype(w.dtype)
        conv.inputs = [
            conv.inputs[0],
            graph.derive_const(weight, f"{weight}__bn", new_w),
            graph.derive_const(conv.inputs[2] if has_bias else "", f"{weight}__bn_bias", new_b),
        ]
        graph.bypass(bn, conv.outputs[0])


def canonical_linear(graph: WorkGraph) -> None:
    """Rewrite linear layers (Gemm, MatMul with constant 2-D weight [+ Add]) as one Gemm."""
    for node in graph.walk():
        if node.op == "Gemm" and not node.domain:
            _normalise_gemm(graph, node)
        elif node.op == "MatMul" and not node.domain and len(node.inputs) == 2:
            x, w = node.inputs
            if graph.is_const(w) and graph.consts[w].ndim == 2 and not graph.is_const(x):
                name = graph.derive_const(w, f"{w}__nk", contiguous(graph.consts[w].T))
                node.op, node.inputs, node.attrs = "Gemm", [x, name], {}
                _absorb_bias_add(graph, node)


def _normalise_gemm(graph: WorkGraph, node: OpNode) -> None:
    if len(node.inputs) < 2 or not graph.is_const(node.inputs[1]):
        return
    alpha = float(node.attrs.pop("alpha", 1.0))
    beta = float(node.attrs.pop("beta", 1.0))
    weight = graph.consts[node.inputs[1]]
    if not node.attrs.pop("transB", 0):
        weight = weight.T
    # A graph-only placeholder stays one: its values are not known, only its shape.
    scaled = contiguous(weight * alpha if alpha != 1.0 and not is_placeholder(weight) else weight)
    name = graph.derive_const(node.inputs[1], f"{node.inputs[1]}__nk", scaled)
    inputs = [node.inputs[0], name]
    if len(node.inputs) > 2 and node.inputs[2] and graph.is_const(node.inputs[2]):
        bias = graph.consts[node.inputs[2]]
        scaled = (bias * beta if beta != 1.0 else bias).reshape(-1)
        inputs.append(graph.derive_const(node.inputs[2], f"{node.inputs[2]}__n", scaled))
    elif len(node.inputs) > 2 and node.inputs[2]:
        inputs.append(node.inputs[2])
    node.inputs = inputs
    if not node.attrs.get("transA"):
        node.attrs.pop("transA", None)
    if len(inputs) == 2:
        _absorb_bias_add(graph, node)


def _absorb_bias_add(graph: WorkGraph, node: OpNode) -> None:
    add = _single_reader(graph, node.outputs[0])
    if add is None or add.op != "Add" or add.domain or len(add.inputs) != 2:
        return
    other = add.inputs[1] if add.inputs[0] == node.outputs[0] else add.inputs[0]
    n_out = graph.consts[node.inputs[1]].shape[0]
    if not graph.is_const(other) or graph.consts[other].size != n_out:
        return
    if graph.consts[other].ndim > 1 and graph.consts[other].shape[-1] != n_out:
        return
    bias_name = graph.derive_const(other, f"{other}__n", graph.consts[other].reshape(-1))
    node.inputs = [*node.inputs, bias_name]
    graph.bypass(add, node.outputs[0])


def drop_zero_bias(graph: WorkGraph) -> None:
    """Remove all-zero biases of Conv/Gemm and Adds of an all-zero constant."""
    for node in graph.walk():
        if node.op in ("Conv", "Gemm", "ConvTranspose") and len(node.inputs) == 3:
            bias = node.inputs[2]
            if graph.is_const(bias) and not np.any(graph.consts[bias]):
                node.inputs = node.inputs[:2]
        elif node.op == "Add" and len(node.inputs) == 2 and not node.domain:
            _drop_zero_add(graph, node)


def _drop_zero_add(graph: WorkGraph, node: OpNode) -> None:
    for k, value in enumerate(node.inputs):
        other = node.inputs[1 - k]
        if graph.is_const(value) and not np.any(graph.consts[value]) and not graph.is_const(other):
            if graph.shape(other) == graph.shape(node.outputs[0]):
                graph.bypass(node, other)
            return


def reduce_mean_to_global_pool(graph: WorkGraph) -> None:
    """``ReduceMean`` over all spatial axes of an N-C-spatial tensor -> GlobalAveragePool."""
    for node in graph.walk():
        if node.op != "ReduceMean" or node.domain or not node.inputs:
            continue
        shape = graph.shape(node.inputs[0])
        axes = _reduce_axes(graph, node)
        if shape is None or len(shape) < 3 or axes != list(range(2, len(shape))):
            continue
        pooled = (*shape[:2], *([1] * (len(shape) - 2)))
        keep = int(node.attrs.get("keepdims", 1))
        out = node.outputs[0]
        node.op, node.inputs, node.attrs = "GlobalAveragePool", node.inputs[:1], {}
        if not keep:
            mid = f"{out}__pooled"
            dtype = graph.specs[out].dtype if out in graph.specs else "float32"
            graph.specs[mid] = TensorSpec(pooled, dtype)
            node.outputs = [mid]
            squeeze = OpNode("Reshape", "", [mid], [out], {}, f"{node.name}/squeeze")
            graph.insert_after(node, squeeze)


def _slice_range(graph: WorkGraph, node: OpNode) -> tuple[int, int, int] | None:
    """``(axis, start, end)`` of a single-axis, unit-step Slice with constant bounds."""
    shape = graph.shape(node.inputs[0]) if node.inputs else None
    params: list[list[int]] = []
    for index, key in ((1, "starts"), (2, "ends"), (3, "axes"), (4, "steps")):
        if len(node.inputs) > index and node.inputs[index]:
            if not graph.is_const(node.inputs[index]):
                return None
            params.append([int(v) for v in graph.consts[node.inputs[index]].reshape(-1)])
        else:
            params.append([int(v) for v in node.attrs.get(key, [])])
    starts, ends, axes, steps = params
    if shape is None or len(starts) != 1 or len(ends) != 1 or any(s != 1 for s in steps):
        return None
    axis = axes[0] if axes else 0
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis < len(shape):
        return None
    dim = shape[axis]
    start, end = (min(max(v + dim if v < 0 else v, 0), dim) for v in (starts[0], ends[0]))
    return axis, start, end


def slices_to_split(graph: WorkGraph) -> None:
    """Slices of one tensor that tile one axis exactly become a single Split."""
    groups: dict[tuple[str, int], list[tuple[int, int, OpNode]]] = {}
    for node in graph.walk():
        if node.op == "Slice" and not node.domain and len(node.outputs) == 1:
            cut = _slice_range(graph, node)
            if cut is not None and cut[2] > cut[1]:
                groups.setdefault((node.inputs[0], cut[0]), []).append((cut[1], cut[2], node))
    for (source, axis), pieces in groups.items():
        pieces.sort(key=lambda p: p[0])
        shape = graph.shape(source) or ()
        bounds = [0] + [end for _, end, _ in pieces]
        if len(pieces) < 2 or [start for start, _, _ in pieces] != bounds[:-1]:
            continue
        if bounds[-1] != shape[axis]:
            continue
        outputs = [node.outputs[0] for _, _, node in pieces]
        first = min((node for _, _, node in pieces), key=graph.nodes.index)
        split = OpNode("Split", "", [source], outputs, {"axis": axis}, first.name)
        for _, _, node in pieces:
            graph.remove(node)
        graph.insert_before_readers(split)


def compose_transposes(graph: WorkGraph) -> None:
    """Transpose of a Transpose (read once) becomes one Transpose; identity ones go."""
    for node in graph.walk():
        if node.op != "Transpose" or node.domain or not node.inputs:
            continue
        rank = len(graph.shape(node.inputs[0]) or ())
        perm = [int(p) for p in node.attrs.get("perm", range(rank - 1, -1, -1))]
        source = graph.producer(node.inputs[0])
        if source is not None and source.op == "Transpose" and graph.uses(node.inputs[0]) == 1:
            inner_rank = len(graph.shape(source.inputs[0]) or ())
            inner = [int(p) for p in source.attrs.get("perm", range(inner_rank - 1, -1, -1))]
            if len(inner) == len(perm):
                perm = [inner[p] for p in perm]
                node.inputs, node.attrs = list(source.inputs), {"perm": perm}
                graph.remove(source)
        if perm == sorted(perm) and node.graph is graph:
            graph.bypass(node, node.inputs[0])


def _reduce_axes(graph: WorkGraph, node: OpNode) -> list[int] | None:
    shape = graph.shape(node.inputs[0]) or ()
    if len(node.inputs) > 1 and node.inputs[1]:
        if not graph.is_const(node.inputs[1]):
            return None
        axes = [int(a) for a in graph.consts[node.inputs[1]].reshape(-1)]
    elif "axes" in node.attrs:
        axes = [int(a) for a in node.attrs["axes"]]
    else:
        return list(range(len(shape)))
    return sorted(a + len(shape) if a < 0 else a for a in axes)


def canonical_reshapes(graph: WorkGraph) -> None:
    """Pure reshapes become ``Reshape`` nodes; chains collapse; identity reshapes go."""
    for node in graph.walk():
        if node.domain:
            continue
        if node.op in _RESHAPES or (node.op == "Transpose" and _moves_only_unit_axes(graph, node)):
            node.op, node.inputs, node.attrs = "Reshape", node.inputs[:1], {}
    _merge_reshapes(graph)
    for node in graph.walk():
        if node.op == "Reshape" and node.inputs:
            _transpose_before_reshape(graph, node)
    _merge_reshapes(graph)


def _merge_reshapes(graph: WorkGraph) -> None:
    for node in graph.walk():
        if node.op != "Reshape" or not node.inputs:
            continue
        source = graph.producer(node.inputs[0])
        if source is not None and source.op == "Reshape" and graph.uses(node.inputs[0]) == 1:
            node.inputs = list(source.inputs)
            graph.remove(source)
        shape_in, shape_out = graph.shape(node.inputs[0]), graph.shape(node.outputs[0])
        if shape_in is not None and shape_in == shape_out:
            graph.bypass(node, node.inputs[0])


def _transpose_before_reshape(graph: WorkGraph, reshape: OpNode) -> None:
    """``Reshape(leading dims) -> Transpose(trailing dims)`` becomes ``Transpose -> Reshape``."""
    transpose = _single_reader(graph, reshape.outputs[0])
    before, after = graph.shape(reshape.inputs[0]), graph.shape(reshape.outputs[0])
    if transpose is None or transpose.op != "Transpose" or before is None or after is None:
        return
    final = graph.shape(transpose.outputs[0])
    perm = [int(p) for p in transpose.attrs.get("perm", range(len(after) - 1, -1, -1))]
    tail = 0
    while tail < min(len(before), len(after)) and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    lead_after, lead_before = len(after) - tail, len(before) - tail
    if final is None or tail < 2 or perm[:lead_after] != list(range(lead_after)):
        return
    new_perm = list(range(lead_before)) + [p - lead_after + lead_before for p in perm[lead_after:]]
    mid = f"{transpose.outputs[0]}__swapped"
    dtype = graph.specs[transpose.outputs[0]].dtype
    graph.specs[mid] = TensorSpec(tuple(before[p] for p in new_perm), dtype)
    transpose.inputs, transpose.attrs = list(reshape.inputs), {"perm": new_perm}
    out = transpose.outputs[0]
    transpose.outputs = [mid]
    reshape.inputs, reshape.outputs = [mid], [out]
    graph.insert_after(transpose, reshape)


def _moves_only_unit_axes(graph: WorkGraph, node: OpNode) -> bool:
    shape = graph.shape(node.inputs[0]) if node.inputs else None
    if shape is None:
        return False
    perm = [int(p) for p in node.attrs.get("perm", range(len(shape) - 1, -1, -1))]
    kept = [p for p in perm if shape[p] != 1]
    return kept == sorted(kept)


def drop_unused_outputs(graph: WorkGraph) -> None:
    """Forget unread optional outputs of multi-output operators."""
    for node in graph.walk():
        if node.op in _OPTIONAL_OUTPUT_OPS and len(node.outputs) > 1:
            keep = [node.outputs[0]] + [o if o and graph.uses(o) else "" for o in node.outputs[1:]]
            while len(keep) > 1 and not keep[-1]:
                keep.pop()
            node.outputs = keep


def eliminate_common_subexpressions(graph: WorkGraph) -> None:
    """Merge weight-free nodes that compute the same thing from the same inputs."""
    seen: dict[tuple[object, ...], OpNode] = {}
    for node in graph.walk():
        if not node.inputs or not all(v and not graph.is_const(v) for v in node.inputs):
            continue
        if node.op.startswith("Random"):
            continue
        key = (
            node.op,
            node.domain,
            tuple(node.inputs),
            repr(sorted(node.attrs.items())),
            tuple(graph.shape(o) for o in node.outputs),
        )
        first = seen.setdefault(key, node)
        if first is node:
            continue
        graph.remove(node)
        for mine, theirs in zip(node.outputs, first.outputs, strict=True):
            if mine:
                graph.rename(mine, theirs)


def remove_dead_nodes(graph: WorkGraph) -> None:
    """Remove nodes none of whose outputs is read (repeat until stable)."""
    changed = True
    while changed:
        changed = False
        read = {v for n in graph.nodes for v in n.inputs} | set(graph.outputs)
        for node in list(graph.nodes):
            if not any(o and o in read for o in node.outputs):
                graph.remove(node)
                changed = True
