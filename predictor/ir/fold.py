"""Constant folding: Constant/Identity/Dropout removal and evaluation of constant subgraphs.

Shape computations that exporters emit (``Shape -> Gather -> Unsqueeze -> Concat -> Reshape``)
fold to constants here, so only operators that touch activations reach the IR.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from predictor.ir.work_graph import OpNode, WorkGraph

logger = logging.getLogger(__name__)

#: Largest constant (elements) the folder materialises; bigger ones stay as operators.
MAX_FOLD_ELEMENTS = 1 << 22

_NO_FOLD = frozenset(
    {
        "RandomNormal",
        "RandomUniform",
        "RandomNormalLike",
        "RandomUniformLike",
        "Multinomial",
        "Bernoulli",
        "DequantizeLinear",
        "QuantizeLinear",
    }
)
_ALIAS_OPS = frozenset({"Identity", "Dropout"})


def fold_constants(graph: WorkGraph) -> None:
    """Fold every node whose inputs are all constants; drop aliases and Constants."""
    for node in graph.walk():
        if node.domain:
            continue
        if node.op == "Constant":
            _fold_constant_node(graph, node)
        elif node.op in _ALIAS_OPS or _is_noop_cast(graph, node):
            if node.inputs and node.inputs[0]:
                graph.bypass(node, node.inputs[0])
        elif node.op == "Shape":
            _fold_shape(graph, node)
        elif node.op == "Transpose" and node.inputs and graph.is_const(node.inputs[0]):
            _fold_transpose(graph, node)
        elif _foldable(graph, node):
            _evaluate(graph, node)


def _fold_constant_node(graph: WorkGraph, node: OpNode) -> None:
    value = _constant_value(node.attrs)
    if value is None:
        return
    graph.consts[node.outputs[0]] = value
    graph.remove(node)


def _constant_value(attrs: dict[str, Any]) -> np.ndarray | None:
    if "value" in attrs and isinstance(attrs["value"], onnx.TensorProto):
        return numpy_helper.to_array(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype=dtype)
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return np.array(list(attrs[key]), dtype=dtype)
    return None


def _is_noop_cast(graph: WorkGraph, node: OpNode) -> bool:
    if node.op != "Cast" or not node.inputs:
        return False
    source = graph.specs.get(node.inputs[0])
    target = graph.specs.get(node.outputs[0])
    return source is not None and target is not None and source.dtype == target.dtype


def _fold_shape(graph: WorkGraph, node: OpNode) -> None:
    shape = graph.shape(node.inputs[0]) if node.inputs else None
    if shape is None:
        return
    rank = len(shape)
    start = int(node.attrs.get("start", 0))
    end = int(node.attrs.get("end", rank))
    start, end = (s + rank if s < 0 else s for s in (start, end))
    graph.consts[node.outputs[0]] = np.array(shape[max(start, 0) : end], dtype=np.int64)
    graph.remove(node)


def _fold_transpose(graph: WorkGraph, node: OpNode) -> None:
    """A transposed constant of any size (a numpy view: nothing is copied).

    A tied LM head reads the embedding matrix through a Transpose that the dynamo exporter
    leaves in the graph; the matrix is larger than :data:`MAX_FOLD_ELEMENTS`.
    """
    value = graph.consts[node.inputs[0]]
    perm = node.attrs.get("perm")
    axes = tuple(int(p) for p in perm) if perm is not None else None
    graph.consts[node.outputs[0]] = np.transpose(value, axes)
    graph.remove(node)


def _foldable(graph: WorkGraph, node: OpNode) -> bool:
    if node.op in _NO_FOLD or not node.outputs:
        return False
    present = [v for v in node.inputs if v]
    if not all(graph.is_const(v) for v in present):
        return False
    for out in node.outputs:
        spec = graph.specs.get(out)
        if spec is None or spec.numel > MAX_FOLD_ELEMENTS:
            return False
    return all(graph.consts[v].size <= MAX_FOLD_ELEMENTS for v in present)


def _evaluate(graph: WorkGraph, node: OpNode) -> None:
    """Run one node with the ONNX reference evaluator; leave it in place if that fails."""
    feeds = {f"i{k}": graph.consts[v] for k, v in enumerate(node.inputs) if v}
    names = [f"i{k}" if v else "" for k, v in enumerate(node.inputs)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    proto_node = onnx.helper.make_node(node.op, names, outs)
    proto_node.attribute.extend(
        onnx.helper.make_attribute(key, value) for key, value in node.attrs.items()
    )
    try:
        results = ReferenceEvaluator(proto_node).run(None, feeds)
    except Exception as exc:  # any evaluator failure just means "do not fold"
        logger.debug("not folding %s %r: %s", node.op, node.name, exc)
        return
    for name, value in zip(node.outputs, results, strict=False):
        if name:
            graph.consts[name] = np.asarray(value)
    graph.remove(node)
