"""Per-operator cost model: multiply-accumulates (MACs) and operations (FLOPs).

Convention (the one every perfloop number uses):

* **MACs** count multiply-accumulates of the contraction operators only:

  - ``Conv``: ``N * Cout * prod(out_spatial) * (Cin / groups) * prod(kernel)`` (1d/2d/3d alike;
    depthwise is ``groups == Cin``), i.e. ``numel(Y) * prod(W.shape[1:])``.
  - ``ConvTranspose``: ``numel(X) * (Cout / groups) * prod(kernel)``, i.e.
    ``numel(X) * prod(W.shape[1:])``.
  - ``Gemm`` (a linear layer, any number of leading batch dims): ``numel(Y) * K``.
  - ``MatMul`` (activation x activation, batched, attention's ``Q·K^T`` and ``attn·V`` alike):
    ``numel(Y) * K`` with ``K`` the contracted dimension (attribute ``weight_first=1`` marks a
    constant first operand, whose last dimension is then ``K``).
  - ``Einsum``: product of the sizes of all distinct indices of the equation.
  - Recurrent cells ``LSTM`` / ``GRU`` / ``RNN``: per time step and direction, every gate's input
    and recurrent matmul: ``seq * batch * dirs * gates * H * (input + H)`` with 4, 3 and 1 gates.

  Every other operator has zero MACs.
* **FLOPs**: ``2 * MACs`` for the contraction operators, plus one per output element for a bias
  add (plus the gate arithmetic of recurrent cells: ``RNN_GATE_FLOPS`` per hidden unit per step).
  Other operators count a fixed number of operations per element, listed in
  :mod:`predictor.ir.op_tables`: ``ELEMENTWISE_FLOPS`` per output element, ``INPUT_FLOPS`` per
  input element (reductions); pooling counts ``prod(kernel)`` per output element. Pure data
  movement (``Reshape``, ``Transpose``, ``Concat``, ``Gather``, ``Pad``, ...) counts zero.
* Unknown operators count zero MACs and zero FLOPs (the importer lists them in
  ``GraphIR.unknown_ops``).

Shapes are the concrete shapes in the IR (batch included). A tensor with an empty or
inconsistent shape never raises here: the affected term just counts zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from predictor.ir.op_tables import (
    DATA_MOVEMENT_OPS,
    ELEMENTWISE_FLOPS,
    INPUT_FLOPS,
    RNN_GATE_FLOPS,
)
from predictor.ir.schema import TensorSpec

__all__ = [
    "DATA_MOVEMENT_OPS",
    "ELEMENTWISE_FLOPS",
    "INPUT_FLOPS",
    "KNOWN_OPS",
    "RNN_GATE_FLOPS",
    "NodeCost",
    "is_known_op",
    "node_cost",
]


@dataclass(frozen=True, slots=True)
class NodeCost:
    """Cost of one operator."""

    macs: int
    flops: int


ZERO = NodeCost(0, 0)

_RNN_GATES: dict[str, int] = {"LSTM": 4, "GRU": 3, "RNN": 1}

_CONTRACTION_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum"})
_POOL_OPS = frozenset({"AveragePool", "MaxPool", "LpPool"})

#: Every canonical op type the IR knows (ONNX op names).
KNOWN_OPS: frozenset[str] = frozenset(
    set(ELEMENTWISE_FLOPS)
    | set(INPUT_FLOPS)
    | DATA_MOVEMENT_OPS
    | set(_RNN_GATES)
    | _CONTRACTION_OPS
    | _POOL_OPS
)


def is_known_op(op_type: str) -> bool:
    """Whether ``op_type`` is a canonical op type with a cost rule."""
    return op_type in KNOWN_OPS


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape) if shape else 0


def _first_numel(tensors: Sequence[TensorSpec]) -> int:
    return _numel(tensors[0].shape) if tensors else 0


def _ints(value: Any) -> tuple[int, ...]:
    if isinstance(value, list | tuple):
        return tuple(int(v) for v in value if isinstance(v, int | float))
    return ()


def _operand(
    index: int, inputs: Sequence[TensorSpec], weights: Sequence[TensorSpec]
) -> TensorSpec | None:
    """Operand ``index`` (0 = data, 1 = weight, 2 = bias) wherever the importer put it."""
    if index == 0:
        return inputs[0] if inputs else None
    extra = [*inputs[1:], *weights]
    return extra[index - 1] if len(extra) >= index else None


def _with_bias(macs: int, bias: TensorSpec | None, outputs: Sequence[TensorSpec]) -> NodeCost:
    bias_flops = _first_numel(outputs) if bias is not None and bias.shape else 0
    return NodeCost(macs, 2 * macs + bias_flops)


def _conv(
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    weight = _operand(1, inputs, weights)
    if weight is not None and len(weight.shape) >= 3:
        per_output = _numel(weight.shape[1:])
    else:
        data = inputs[0].shape if inputs else ()
        groups = int(attrs.get("groups", 1) or 1)
        cin = data[1] if len(data) > 1 else 0
        per_output = (cin // groups) * _numel(_ints(attrs.get("kernel_shape")))
    return _with_bias(_first_numel(outputs) * per_output, _operand(2, inputs, weights), outputs)


def _conv_transpose(
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    weight = _operand(1, inputs, weights)
    if weight is not None and len(weight.shape) >= 3:
        per_input = _numel(weight.shape[1:])
    else:
        out = outputs[0].shape if outputs else ()
        groups = int(attrs.get("groups", 1) or 1)
        cout = out[1] if len(out) > 1 else 0
        per_input = (cout // groups) * _numel(_ints(attrs.get("kernel_shape")))
    return _with_bias(_first_numel(inputs) * per_input, _operand(2, inputs, weights), outputs)


def _contracted_dim(attrs: Mapping[str, Any], inputs: Sequence[TensorSpec]) -> int:
    if not inputs or not inputs[0].shape:
        return 0
    shape = inputs[0].shape
    if attrs.get("transA") and len(shape) >= 2:
        return shape[-2]
    return shape[-1]


def _gemm(
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    macs = _first_numel(outputs) * _contracted_dim(attrs, inputs)
    return _with_bias(macs, _operand(2, inputs, weights), outputs)


def _matmul(
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    if attrs.get("weight_first") and weights and weights[0].shape:
        contracted = weights[0].shape[-1]  # constant @ activation
    else:
        contracted = _contracted_dim(attrs, inputs)
    macs = _first_numel(outputs) * contracted
    return NodeCost(macs, 2 * macs)


def _einsum(
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    equation = str(attrs.get("equation", "")).replace(" ", "")
    terms = equation.split("->")[0].split(",") if equation else []
    operands = [*inputs, *weights]
    sizes: dict[str, int] = {}
    for term, tensor in zip(terms, operands, strict=False):
        if "." in term or len(term) != len(tensor.shape):
            return ZERO
        sizes.update(zip(term, tensor.shape, strict=True))
    macs = math.prod(sizes.values()) if sizes else 0
    return NodeCost(macs, 2 * macs)


def _recurrent(
    op_type: str,
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    data = inputs[0].shape if inputs else ()
    weight = _operand(1, inputs, weights)
    if len(data) != 3 or weight is None or len(weight.shape) != 3:
        return ZERO
    seq, batch = (data[1], data[0]) if attrs.get("layout") else (data[0], data[1])
    dirs, gates_h, input_size = weight.shape
    hidden = gates_h // _RNN_GATES[op_type]
    step_macs = gates_h * (input_size + hidden)
    macs = seq * batch * dirs * step_macs
    elementwise = seq * batch * dirs * hidden * (RNN_GATE_FLOPS[op_type] + 2 * _RNN_GATES[op_type])
    return NodeCost(macs, 2 * macs + elementwise)


def _pool(attrs: Mapping[str, Any], outputs: Sequence[TensorSpec]) -> NodeCost:
    return NodeCost(0, _first_numel(outputs) * _numel(_ints(attrs.get("kernel_shape"))))


_CostFn = Callable[
    [Mapping[str, Any], Sequence[TensorSpec], Sequence[TensorSpec], Sequence[TensorSpec]],
    NodeCost,
]
_CONTRACTION_COSTS: dict[str, _CostFn] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Einsum": _einsum,
}


def node_cost(
    op_type: str,
    attrs: Mapping[str, Any],
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    weights: Sequence[TensorSpec],
) -> NodeCost:
    """MACs and FLOPs of one operator under the convention of this module.

    Args:
        op_type: canonical op type.
        attrs: canonical attributes (``kernel_shape``, ``groups``, ``transA``, ``layout``, ...).
        inputs: activation inputs in operator order.
        outputs: outputs in operator order.
        weights: constant inputs in operator order (weight, then bias).

    Returns:
        The node's cost; zero for unknown operators and data movement.
    """
    if op_type in _CONTRACTION_COSTS:
        return _CONTRACTION_COSTS[op_type](attrs, inputs, outputs, weights)
    if op_type in _RNN_GATES:
        return _recurrent(op_type, attrs, inputs, outputs, weights)
    if op_type in _POOL_OPS:
        return _pool(attrs, outputs)
    if op_type in ELEMENTWISE_FLOPS:
        return NodeCost(0, ELEMENTWISE_FLOPS[op_type] * _first_numel(outputs))
    if op_type in INPUT_FLOPS:
        return NodeCost(0, INPUT_FLOPS[op_type] * _first_numel(inputs))
    return ZERO
