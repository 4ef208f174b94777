"""Quantised graphs -> the float graph's canonical operators with ``dtype="int8"``.

* ``DequantizeLinear`` of a constant becomes that constant (dequantised values, for folding)
  whose stored dtype stays the quantised one, so weights count one byte per int8 element.
* ``QuantizeLinear`` / ``DequantizeLinear`` on activations disappear; the tensor they quantise
  takes the quantised dtype.
* ``QLinearConv``, ``QLinearMatMul``, ``ConvInteger`` and ``MatMulInteger`` (and onnxruntime's
  ``com.microsoft`` QGemm, QLinearAdd, QLinearGlobalAveragePool, ...) become ``Conv``,
  ``MatMul``, ``Gemm``, ... on the quantised operands (scales and zero points dropped).
* A node is quantised (IR ``dtype="int8"``) when it was a QLinear/Integer operator or reads an
  int8/uint8 weight or activation.

onnxruntime's QDQ quantiser removes a Relu that follows a Conv (the requantisation range clips
it), so such a graph has one Relu fewer than its float original; that is the quantised network.
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
#: onnxruntime contrib (``com.microsoft``) quantised operators, same form.
_CONTRIB_OPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "QGemm": ("Gemm", (0, 3, 6)),
    "QLinearAdd": ("Add", (0, 3)),
    "QLinearMul": ("Mul", (0, 3)),
    "QLinearGlobalAveragePool": ("GlobalAveragePool", (0,)),
    "QLinearAveragePool": ("AveragePool", (0,)),
    "QLinearSigmoid": ("Sigmoid", (0,)),
    "QLinearLeakyRelu": ("LeakyRelu", (0,)),
    "QLinearSoftmax": ("Softmax", (0,)),
    "QLinearConv": ("Conv", (0, 3, 8)),
    "QLinearConcat": ("Concat", ()),
}
_QUANT_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})
_QUANT_DOMAINS = frozenset({"", "com.microsoft"})
_INT8 = frozenset({"int8", "uint8"})


def _integer_table(node: OpNode) -> dict[str, tuple[str, tuple[int, ...]]]:
    return _CONTRIB_OPS if node.domain == "com.microsoft" else _INTEGER_OPS


def canonicalize_quantized(graph: WorkGraph) -> None:
    """Rewrite QDQ and QOperator graphs into canonical float operators marked int8."""
    if not any(n.op in _QUANT_OPS or n.op in _integer_table(n) for n in graph.nodes):
        return
    integer_nodes: list[OpNode] = []
    for node in graph.walk():
        if node.domain not in _QUANT_DOMAINS:
            continue
        if node.op == "DequantizeLinear" and node.inputs and graph.is_const(node.inputs[0]):
            _dequantize_constant(graph, node)
        elif node.op in _QUANT_OPS and node.inputs and node.inputs[0]:
            _drop_activation_quant(graph, node)
        elif node.op in _integer_table(node):
            _integer_op(graph, node)
            integer_nodes.append(node)
    for node in graph.nodes:
        node.quantized = any(node is n for n in integer_nodes) or _is_quantized(graph, node)


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


def _drop_activation_quant(graph: WorkGraph, node: OpNode) -> None:
    """Alias a Q/DQ output to its input; a quantised tensor takes the quantised dtype."""
    source = node.inputs[0]
    spec, old = graph.specs.get(node.outputs[0]), graph.specs.get(source)
    if node.op == "QuantizeLinear" and spec and old and source not in graph.inputs:
        graph.specs[source] = TensorSpec(old.shape, spec.dtype)
    graph.bypass(node, source)


def _integer_op(graph: WorkGraph, node: OpNode) -> None:
    canonical, kept = _integer_table(node)[node.op]
    if node.op == "QLinearConcat":  # Y_scale, Y_zero_point, then (X, X_scale, X_zero_point)...
        kept = tuple(range(2, len(node.inputs), 3))
    inputs = [node.inputs[i] if i < len(node.inputs) else "" for i in kept]
    for value in inputs:
        if value and graph.is_const(value) and value not in graph.stored_dtype:
            graph.stored_dtype[value] = numpy_dtype(graph.consts[value])
    while inputs and not inputs[-1]:
        inputs.pop()
    source = graph.specs.get(inputs[0]) if inputs else None
    if node.op.startswith("QLinear") and source is not None and source.dtype in _INT8:
        for out in node.outputs:  # QLinear outputs keep the quantised type of their input
            if out in graph.specs:
                graph.specs[out] = TensorSpec(graph.specs[out].shape, source.dtype)
    node.op, node.domain, node.inputs = canonical, "", inputs
    node.attrs = {k: v for k, v in node.attrs.items() if k not in ("channels_last", "opset")}


def _is_quantized(graph: WorkGraph, node: OpNode) -> bool:
    """Reads an int8 weight or an int8 activation."""
    for value in node.inputs:
        if not value:
            continue
        if graph.is_const(value):
            if graph.stored_dtype.get(value) in _INT8:
                return True
        elif value in graph.specs and graph.specs[value].dtype in _INT8:
            return True
    return False
