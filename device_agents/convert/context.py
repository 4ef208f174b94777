"""State shared by the ONNX -> TFLite lowering functions."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from device_agents.convert.ir import Graph, Operator, Tensor
from device_agents.errors import UnsupportedModelError

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)
ACTIVATIONS = {"RELU": "RELU", "RELU6": "RELU6", "RELU_N1_TO_1": "RELU_N1_TO_1"}


def to_nhwc_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """NCHW -> NHWC for 4-D shapes; other ranks unchanged."""
    return tuple(shape[i] for i in NCHW_TO_NHWC) if len(shape) == 4 else shape


class LoweringContext:
    """What the lowering functions read and write.

    Args:
        model: Shape-inferred ONNX model (constant-folded by onnxruntime's basic optimiser).
        ranges: Calibrated (min, max) of the ONNX tensors (int8 conversion), else empty.
    """

    def __init__(
        self, model: onnx.ModelProto, ranges: dict[str, tuple[float, float]] | None = None
    ) -> None:
        self.model = model
        self.ranges = ranges or {}
        self.graph = Graph()
        self.consts: dict[str, np.ndarray] = {
            init.name: numpy_helper.to_array(init) for init in model.graph.initializer
        }
        self.shapes: dict[str, tuple[int, ...]] = {}
        for value in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
            dims = value.type.tensor_type.shape.dim
            self.shapes[value.name] = tuple(
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in dims
            )
        self.consumers: Counter[str] = Counter(i for n in model.graph.node for i in n.input if i)
        self.producer_of_consumer: dict[str, list[onnx.NodeProto]] = {}
        for node in model.graph.node:
            for name in node.input:
                self.producer_of_consumer.setdefault(name, []).append(node)
        self.graph_outputs = {o.name for o in model.graph.output}
        self.alias: dict[str, str] = {}
        self.skip: set[str] = set()
        self._n = 0

    def unsupported(self, node: onnx.NodeProto, why: str) -> UnsupportedModelError:
        """Build the error naming the ONNX operator and node."""
        return UnsupportedModelError(
            f"operator {node.op_type} (node {node.name or node.output[0]!r}) {why}"
        )

    def attr(self, node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        """Return an attribute's value (or ``default``)."""
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def fresh(self, prefix: str) -> str:
        """Return a new unique tensor name."""
        self._n += 1
        return f"{prefix}__{self._n}"

    def name(self, onnx_name: str) -> str:
        """TFLite tensor name of an ONNX activation."""
        return self.alias.get(onnx_name, onnx_name)

    def shape(self, onnx_name: str) -> tuple[int, ...]:
        """ONNX (NCHW) shape of a tensor."""
        if onnx_name in self.consts:
            return tuple(self.consts[onnx_name].shape)
        if onnx_name not in self.shapes:
            raise UnsupportedModelError(f"tensor {onnx_name!r} has no inferred static shape")
        return self.shapes[onnx_name]

    def const_value(self, node: onnx.NodeProto, index: int) -> np.ndarray | None:
        """The constant value of a node input, or None when it is an activation or absent."""
        if index >= len(node.input) or not node.input[index]:
            return None
        return self.consts.get(node.input[index])

    def activation(self, onnx_name: str, source: str | None = None) -> str:
        """Declare (once) the TFLite tensor of an ONNX activation and return its name."""
        name = self.name(onnx_name)
        if name not in self.graph.tensors:
            shape = to_nhwc_shape(self.shape(onnx_name))
            self.graph.add_tensor(Tensor(name, shape, source=source or onnx_name))
        return name

    def temp(self, prefix: str, shape: tuple[int, ...], source: str) -> str:
        """Add an intermediate activation that takes ``source``'s calibration range."""
        return self.graph.add_tensor(Tensor(self.fresh(prefix), shape, source=source))

    def emit(
        self,
        node: onnx.NodeProto,
        opcode: str,
        inputs: list[str],
        outputs: list[str],
        options: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Append an operator."""
        self.graph.operators.append(Operator(opcode, inputs, outputs, options, node.name))

    def fuse_activation(self, node: onnx.NodeProto) -> tuple[str, str]:
        """Fuse a following Relu / Clip into ``node`` when it is the only consumer.

        Returns:
            The TFLite fused activation name (``NONE`` when nothing was fused) and the ONNX name
            of the tensor the fused operator writes.
        """
        out = node.output[0]
        users = self.producer_of_consumer.get(out, [])
        if len(users) != 1 or out in self.graph_outputs:
            return "NONE", out
        act = activation_kind(self, users[0])
        if act is None:
            return "NONE", out
        self.skip.add(users[0].output[0])
        return act, users[0].output[0]

    def transpose(self, node: onnx.NodeProto, src: str, perm: tuple[int, ...], source: str) -> str:
        """Emit a TRANSPOSE of ``src`` and return the new tensor."""
        shape = self.graph.tensors[src].shape
        out = self.temp("transpose", tuple(shape[p] for p in perm), source)
        perm_name = self.graph.const(self.fresh("perm"), np.array(perm, np.int32), "int32")
        self.emit(node, "TRANSPOSE", [src, perm_name], [out])
        return out


def activation_kind(ctx: LoweringContext, node: onnx.NodeProto) -> str | None:
    """Return the TFLite activation a Relu / Clip node computes, or None."""
    if node.op_type == "Relu":
        return "RELU"
    if node.op_type != "Clip":
        return None
    low, high = clip_bounds(ctx, node)
    bounds = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, float("inf")): "RELU"}
    return bounds.get((low, high))


def clip_bounds(ctx: LoweringContext, node: onnx.NodeProto) -> tuple[float, float]:
    """Clip's (min, max), from inputs (opset >= 11) or attributes."""
    low_v, high_v = ctx.const_value(node, 1), ctx.const_value(node, 2)
    low = float(low_v) if low_v is not None else float(ctx.attr(node, "min", float("-inf")))
    high = float(high_v) if high_v is not None else float(ctx.attr(node, "max", float("inf")))
    return low, high
