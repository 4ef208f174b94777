"""The converter's small intermediate form: TFLite tensors and operators before serialisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

TensorDtype = Literal["float32", "int8", "int32"]


@dataclass
class Quant:
    """Affine quantisation parameters (per tensor, or per channel along ``axis``)."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0


@dataclass
class Tensor:
    """A TFLite tensor. 4-D activations are NHWC.

    Attributes:
        name: Unique name.
        shape: Static shape.
        dtype: Element type.
        data: Float (or int32) values of a constant; quantised at serialisation in int8 mode.
        quant: Quantisation parameters (int8 mode).
        source: Name of the ONNX tensor whose calibration range applies (activations).
        known_range: A (min, max) known without calibration (intermediates the lowering adds).
    """

    name: str
    shape: tuple[int, ...]
    dtype: TensorDtype = "float32"
    data: np.ndarray | None = None
    quant: Quant | None = None
    source: str | None = None
    known_range: tuple[float, float] | None = None


@dataclass
class Operator:
    """A TFLite builtin operator.

    Attributes:
        opcode: ``BuiltinOperator`` name (``CONV_2D``...).
        inputs: Input tensor names.
        outputs: Output tensor names.
        options: ``BuiltinOptions`` table name and its fields (``StrideW``: 1, ...).
        onnx_node: Name of the ONNX node it came from (for messages and cycle models).
    """

    opcode: str
    inputs: list[str]
    outputs: list[str]
    options: tuple[str, dict[str, Any]] | None = None
    onnx_node: str = ""


@dataclass
class Graph:
    """A TFLite subgraph under construction."""

    tensors: dict[str, Tensor] = field(default_factory=dict)
    operators: list[Operator] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def add_tensor(self, tensor: Tensor) -> str:
        """Add a tensor (its name must be new) and return its name."""
        if tensor.name in self.tensors:
            raise ValueError(f"duplicate tensor {tensor.name!r}")
        self.tensors[tensor.name] = tensor
        return tensor.name

    def const(self, name: str, data: np.ndarray, dtype: TensorDtype = "float32") -> str:
        """Add a constant tensor."""
        return self.add_tensor(Tensor(name, tuple(data.shape), dtype, data=data))
