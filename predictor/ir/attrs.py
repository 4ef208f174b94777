"""Canonical attributes of IR nodes, with defaults written out so every producer agrees.

Spec builders (:mod:`predictor.spaces`) must use the same names and forms:

* ``Conv`` / ``ConvTranspose``: ``kernel_shape``, ``strides``, ``pads`` (begin..., end...),
  ``dilations``, ``groups`` (and ``output_padding`` for ConvTranspose), all explicit.
* ``MaxPool`` / ``AveragePool``: ``kernel_shape``, ``strides``, ``pads``.
* ``Gemm``: weight ``(N, K)``, optional bias ``(N,)``, no attributes. ``MatMul``: none, or
  ``weight_first=1`` when its constant operand comes first.
* ``Softmax``, ``LogSoftmax``, ``Concat``, ``Gather``, ``Split``, ``LayerNormalization``: ``axis``
  (non-negative); ``Split`` also ``split`` (sizes).
* ``Transpose``: ``perm``; ``Reduce*``: ``axes`` (sorted, non-negative), ``keepdims``.
* ``Clip``: ``min`` / ``max`` where bounded. ``LeakyRelu``/``Elu``: ``alpha``; ``HardSigmoid``:
  ``alpha``, ``beta``; ``Gelu``: ``approximate``.
* ``LSTM`` / ``GRU`` / ``RNN``: ``hidden_size``, ``direction``, ``layout`` (GRU also
  ``linear_before_reset``).
* ``Pad``: ``pads``, ``mode``; ``Resize``: ``mode``; ``Cast``: ``to`` (IR dtype name).
* ``Reshape``, ``Expand``, ``Tile``, ``GlobalAveragePool``, elementwise ops: no attributes.

Numerical details that do not change the cost or the shapes (``epsilon``, ``stash_type``,
``auto_pad`` once resolved into ``pads``) are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from predictor.ir.schema import AttrValue
from predictor.ir.work_graph import OpNode, WorkGraph, onnx_dtype

#: ONNX input positions that carry configuration, not data: read into attributes, never weights.
ATTRIBUTE_INPUTS: dict[str, frozenset[int]] = {
    "Reshape": frozenset({1}),
    "Unsqueeze": frozenset({1}),
    "Squeeze": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Pad": frozenset({1, 2, 3}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
    "Split": frozenset({1}),
    "Clip": frozenset({1, 2}),
    "TopK": frozenset({1}),
    "CumSum": frozenset({1}),
    "OneHot": frozenset({1, 2}),
    "ConstantOfShape": frozenset({0}),
    "Range": frozenset({0, 1, 2}),
    "LSTM": frozenset({4, 5, 6, 7}),
    "GRU": frozenset({4, 5}),
    "RNN": frozenset({4, 5}),
    "Gather": frozenset({1}),
    "ReduceMean": frozenset({1}),
    "ReduceSum": frozenset({1}),
    "ReduceMax": frozenset({1}),
    "ReduceMin": frozenset({1}),
    "ReduceProd": frozenset({1}),
    "ReduceL1": frozenset({1}),
    "ReduceL2": frozenset({1}),
    "ReduceSumSquare": frozenset({1}),
    "ReduceLogSumExp": frozenset({1}),
}

_AXIS_OPS = frozenset(
    {"Softmax", "LogSoftmax", "Concat", "Gather", "Split", "LayerNormalization", "CumSum"}
)
_AXIS_DEFAULT = {"Softmax": -1, "LogSoftmax": -1, "LayerNormalization": -1}
_ACTIVATION_DEFAULTS: dict[str, dict[str, AttrValue]] = {
    "LeakyRelu": {"alpha": 0.01},
    "Elu": {"alpha": 1.0},
    "HardSigmoid": {"alpha": 0.2, "beta": 0.5},
    "Gelu": {"approximate": "none"},
}


def _plain(value: Any) -> AttrValue | None:
    """An ONNX attribute value as an IR attribute value (None when not representable)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 6)
    if isinstance(value, list | tuple) and all(isinstance(v, int | np.integer) for v in value):
        return tuple(int(v) for v in value)
    if isinstance(value, list | tuple) and all(isinstance(v, float) for v in value):
        return tuple(round(float(v), 6) for v in value)
    if isinstance(value, list | tuple) and all(isinstance(v, bytes) for v in value):
        return tuple(v.decode(errors="replace") for v in value)
    return None


def _rank(graph: WorkGraph, node: OpNode) -> int:
    shape = graph.shape(node.inputs[0]) if node.inputs and node.inputs[0] else None
    return len(shape) if shape is not None else 0


def _axis(value: int, rank: int) -> int:
    return value + rank if value < 0 and rank else value


def _const_ints(graph: WorkGraph, node: OpNode, index: int) -> tuple[int, ...] | None:
    if len(node.inputs) > index and node.inputs[index] and graph.is_const(node.inputs[index]):
        return tuple(int(v) for v in graph.consts[node.inputs[index]].reshape(-1))
    return None


def _conv(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    weight = graph.shape(node.inputs[1]) if len(node.inputs) > 1 else None
    kernel = node.attrs.get("kernel_shape") or (weight[2:] if weight else ())
    n = len(kernel)
    strides = tuple(node.attrs.get("strides") or (1,) * n)
    dilations = tuple(node.attrs.get("dilations") or (1,) * n)
    pads = tuple(node.attrs.get("pads") or _auto_pads(graph, node, kernel, strides, dilations))
    attrs: dict[str, AttrValue] = {
        "kernel_shape": tuple(int(k) for k in kernel),
        "strides": tuple(int(s) for s in strides),
        "pads": tuple(int(p) for p in pads),
        "dilations": tuple(int(d) for d in dilations),
        "groups": int(node.attrs.get("group", 1)),
    }
    if node.op == "ConvTranspose":
        attrs["output_padding"] = tuple(
            int(p) for p in node.attrs.get("output_padding") or (0,) * n
        )
    return attrs


def _auto_pads(
    graph: WorkGraph,
    node: OpNode,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> tuple[int, ...]:
    """Explicit pads of ``auto_pad`` SAME_UPPER/SAME_LOWER (zeros for NOTSET/VALID)."""
    mode = node.attrs.get("auto_pad", b"NOTSET")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    shape = graph.shape(node.inputs[0]) if node.inputs else None
    if not mode.startswith("SAME") or shape is None or len(shape) != len(kernel) + 2:
        return (0,) * (2 * len(kernel))
    begin, end = [], []
    for size, k, s, d in zip(shape[2:], kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        small, large = total // 2, total - total // 2
        begin.append(large if mode == "SAME_LOWER" else small)
        end.append(small if mode == "SAME_LOWER" else large)
    return (*begin, *end)


def _pool(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    kernel = tuple(int(k) for k in node.attrs.get("kernel_shape", ()))
    strides = tuple(node.attrs.get("strides") or (1,) * len(kernel))
    pads = node.attrs.get("pads") or _auto_pads(graph, node, kernel, strides, (1,) * len(kernel))
    return {
        "kernel_shape": kernel,
        "strides": tuple(int(s) for s in strides),
        "pads": tuple(int(p) for p in pads),
    }


def _axis_attrs(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    rank = _rank(graph, node)
    axis = int(node.attrs.get("axis", _AXIS_DEFAULT.get(node.op, 0)))
    if node.op == "CumSum":
        axis = (_const_ints(graph, node, 1) or (0,))[0]
    axis = _axis(axis, rank)
    attrs: dict[str, AttrValue] = {"axis": axis}
    if node.op == "Split":
        sizes = [graph.shape(o) for o in node.outputs if o]
        if all(s is not None and len(s) > axis for s in sizes):
            attrs["split"] = tuple(s[axis] for s in sizes if s is not None)
    return attrs


def _reduce(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    rank = _rank(graph, node)
    axes = _const_ints(graph, node, 1)
    if axes is None:
        axes = tuple(node.attrs.get("axes", ())) or tuple(range(rank))
    return {
        "axes": tuple(sorted(_axis(int(a), rank) for a in axes)),
        "keepdims": int(node.attrs.get("keepdims", 1)),
    }


def _transpose(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    rank = _rank(graph, node)
    return {"perm": tuple(int(p) for p in node.attrs.get("perm", range(rank - 1, -1, -1)))}


def _clip(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    attrs: dict[str, AttrValue] = {}
    for index, key in ((1, "min"), (2, "max")):
        value: Any = node.attrs.get(key)
        if len(node.inputs) > index and node.inputs[index] and graph.is_const(node.inputs[index]):
            value = graph.consts[node.inputs[index]].reshape(-1)[0]
        if value is not None:
            attrs[key] = round(float(value), 6)
    return attrs


def _recurrent(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    direction = node.attrs.get("direction", b"forward")
    attrs: dict[str, AttrValue] = {
        "hidden_size": int(node.attrs.get("hidden_size", 0)),
        "direction": direction.decode() if isinstance(direction, bytes) else str(direction),
        "layout": int(node.attrs.get("layout", 0)),
    }
    if node.op == "GRU":
        attrs["linear_before_reset"] = int(node.attrs.get("linear_before_reset", 0))
    return attrs


def _pad(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    mode = node.attrs.get("mode", b"constant")
    pads = _const_ints(graph, node, 1) or tuple(node.attrs.get("pads", ()))
    return {"pads": pads, "mode": mode.decode() if isinstance(mode, bytes) else str(mode)}


def _resize(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    mode = node.attrs.get("mode", b"nearest")
    return {"mode": mode.decode() if isinstance(mode, bytes) else str(mode)}


def _cast(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    return {"to": onnx_dtype(int(node.attrs.get("to", 0)))}


def _none(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    return {}


def _activation(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    attrs = dict(_ACTIVATION_DEFAULTS[node.op])
    for key in attrs:
        value = _plain(node.attrs.get(key, attrs[key]))
        if value is not None:
            attrs[key] = value
    return attrs


_Rule = Callable[[WorkGraph, OpNode], dict[str, AttrValue]]
_RULES: dict[str, _Rule] = {
    "Conv": _conv,
    "ConvTranspose": _conv,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "Transpose": _transpose,
    "Clip": _clip,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "RNN": _recurrent,
    "Pad": _pad,
    "Resize": _resize,
    "Cast": _cast,
    "Reshape": _none,
    "Expand": _none,
    "Tile": _none,
    "GlobalAveragePool": _none,
    "GlobalMaxPool": _none,
    "BatchNormalization": _none,
    "InstanceNormalization": _none,
    "GroupNormalization": _none,
    "Dropout": _none,
    "Slice": _none,
    **{op: _axis_attrs for op in _AXIS_OPS},
    **{op: _reduce for op in ATTRIBUTE_INPUTS if op.startswith("Reduce")},
    **{op: _activation for op in _ACTIVATION_DEFAULTS},
}


def canonical_attrs(graph: WorkGraph, node: OpNode) -> dict[str, AttrValue]:
    """Canonical attributes of ``node`` (defaults filled, exporter details dropped)."""
    rule = _RULES.get(node.op)
    if rule is not None and not node.domain:
        return rule(graph, node)
    if node.op == "MatMul" and not node.domain:
        first_const = bool(node.inputs) and graph.is_const(node.inputs[0])
        return {"weight_first": 1} if first_const else {}
    if node.op == "Gemm" and not node.domain:
        return {"transA": 1} if node.attrs.get("transA") else {}
    attrs: dict[str, AttrValue] = {}
    for key, value in sorted(node.attrs.items()):
        plain = _plain(value)
        if plain is not None:
            attrs[key] = plain
    return attrs
