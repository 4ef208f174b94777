"""Quantised graphs -> the float graph's canonical operators with ``dtype="int8"``.

* ``DequantizeLinear`` of a constant becomes that constant (dequantised values, for folding)
  whose stored dtype stays the quantised one, so weights count one byte per int8 element.
* ``QuantizeLinear`` / ``DequantizeLinear`` on activations disappear; the tensor they quantise
  takes the quantised dtype.
* ``QLinearConv``, ``QLinearMatMul``, ``ConvInteger`` and ``MatMulInteger`` become ``Conv`` and
  ``MatMul`` on the quantised operands (scales and zero points dropped).
* A node is quantised (IR ``dtype="int8"``) when it reads a quantised weight, was a QLinear or
  Integer operator, or reads only quantised activations and writes only quantised ones.
"""

from __future__ import annotations

import numpy as np

from predictor.ir.schema import TensorSpec
from predictor.ir.work_graph import OpNode, WorkGraph, numpy_dtype

#: Integer operator -> (canonical op, positions of the data operands it keeps).
_INTEGER_OPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "QLinearConv": ("Conv", (0, 3, 8)),
    "QLinearMatMul": ("MatMul", (0, 3)),
    "ConvInteger": ("Conv", (0, 1)),
    "MatMulInteger": ("MatMul", (0, 1)),
}
_QUANT_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})


def canonicalize_quantized(graph: WorkGraph) -> None:
    """Rewrite QDQ and QOperator graphs into canonical float operators marked int8."""
    if not any(n.op in _QUANT_OPS or n.op in _INTEGER_OPS for n in graph.nodes):
        return
    quantized_values: set[str] = set()
    int8_nodes: set[int] = set()
    for node in graph.walk():
        if node.domain:
            continue
        if node.op == "DequantizeLinear" and node.inputs and graph.is_const(node.inputs[0]):
            _dequantize_constant(graph, node)
        elif node.op in _QUANT_OPS and node.inputs and node.inputs[0]:
            _drop_activation_quant(graph, node, quantized_values)
        elif node.op in _INTEGER_OPS:
            _integer_op(graph, node)
            int8_nodes.add(id(node))
    for node in graph.nodes:
        node.quantized = id(node) in int8_nodes or _is_quantized(graph, node, quantized_values)


def _dequantize_constant(graph: WorkGraph, node: OpNode) -> None:
    raw = graph.consts[node.inputs[0]]
    scale = graph.consts.get(node.inputs[1]) if len(node.inputs) > 1 else None
    zero = graph.consts.get(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    axis = int(node.attrs.get("axis", 1))
    values = raw.astype(np.float32)
    if zero is not None:
        values = values - _broadcast(zero.astype(np.float32), raw.ndim, axis)
    if scale is not None:
        values = values * _broadcast(scale.astype(np.float32), raw.ndim, axis)
    out = node.outputs[0]
    graph.consts[out] = values
    graph.stored_dtype[out] = numpy_dtype(raw)
    graph.remove(node)


def _broadcast(param: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    if param.ndim == 0 or param.size == 1 or ndim == 0:
        return param.reshape(())
    shape = [1] * ndim
    shape[axis % ndim] = param.size
    return param.reshape(shape)


def _drop_activation_quant(graph: WorkGraph, node: OpNode, quantized: set[str]) -> None:
    """Alias a Q/DQ output to its input; a quantised tensor takes the quantised dtype."""
    source = node.inputs[0]
    quantized.add(source)
    spec, old = graph.specs.get(node.outputs[0]), graph.specs.get(source)
    if node.op == "QuantizeLinear" and spec and old and source not in graph.inputs:
        graph.specs[source] = TensorSpec(old.shape, spec.dtype)
    graph.bypass(node, source)


def _integer_op(graph: WorkGraph, node: OpNode) -> None:
    canonical, kept = _INTEGER_OPS[node.op]
    inputs = [node.inputs[i] if i < len(node.inputs) else "" for i in kept]
    for value in inputs:
        if value and graph.is_const(value) and value not in graph.stored_dtype:
            graph.stored_dtype[value] = numpy_dtype(graph.consts[value])
    while inputs and not inputs[-1]:
        inputs.pop()
    node.op, node.inputs = canonical, inputs
    node.attrs = {k: v for k, v in node.attrs.items() if k != "axis"}


def _is_quantized(graph: WorkGraph, node: OpNode, quantized: set[str]) -> bool:
    if any(graph.stored_dtype.get(v) in ("int8", "uint8") for v in node.inputs if v):
        return True
    acts = [v for v in node.inputs if v and not graph.is_const(v)]
    outs = [v for v in node.outputs if v]
    return bool(acts) and all(v in quantized for v in acts) and all(v in quantized for v in outs)
