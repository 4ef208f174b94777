"""A small mutable graph the ONNX importer rewrites before handing nodes to the builder.

Values are named by their ONNX names; constants live in ``consts`` as numpy arrays; shapes from
ONNX shape inference live in ``specs``. Rewrites remove nodes and alias names; nothing here
knows about the final IR except :class:`TensorSpec`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from predictor.ir.graph_only import is_external, placeholder
from predictor.ir.schema import DType, TensorSpec

_ONNX_DTYPES: dict[int, DType] = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.BFLOAT16: "bfloat16",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.INT16: "int16",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.BOOL: "bool",
}
_NUMPY_DTYPES: dict[str, DType] = {
    "float32": "float32",
    "float16": "float16",
    "float64": "float64",
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool",
}


def onnx_dtype(elem_type: int) -> DType:
    """IR dtype of an ONNX element type."""
    return _ONNX_DTYPES.get(elem_type, "other")


def numpy_dtype(array: np.ndarray) -> DType:
    """IR dtype of a numpy array."""
    return _NUMPY_DTYPES.get(str(array.dtype), "other")


@dataclass(slots=True, eq=False)
class OpNode:
    """One operator of the working graph ('' in ``inputs`` marks a missing optional input)."""

    op: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    name: str = ""
    quantized: bool = False
    graph: WorkGraph | None = field(default=None, repr=False)

    def __setattr__(self, key: str, value: Any) -> None:
        graph = getattr(self, "graph", None)
        if graph is None or key not in ("inputs", "outputs"):
            object.__setattr__(self, key, value)
            return
        graph._unindex(self)  # keep the owning graph's reader/producer index exact
        object.__setattr__(self, key, value)
        graph._add_to_index(self)


@dataclass(slots=True)
class WorkGraph:
    """Nodes in topological order plus constants, specs and graph inputs/outputs.

    Readers and producers of every value are indexed; nodes keep the index exact when their
    ``inputs`` or ``outputs`` are reassigned, so rewrites cost O(1) lookups, not graph scans.
    """

    nodes: list[OpNode]
    consts: dict[str, np.ndarray]
    specs: dict[str, TensorSpec]
    inputs: list[str]
    outputs: list[str]
    #: Constants that are stored quantized (DequantizeLinear inputs): name -> stored dtype.
    stored_dtype: dict[str, DType] = field(default_factory=dict)
    _readers: dict[str, list[OpNode]] = field(default_factory=dict, repr=False)
    _producers: dict[str, OpNode] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for node in self.nodes:
            node.graph = self
            self._add_to_index(node)

    def _add_to_index(self, node: OpNode) -> None:
        for value in node.inputs:
            self._readers.setdefault(value, []).append(node)
        for value in node.outputs:
            self._producers.setdefault(value, node)

    def _unindex(self, node: OpNode) -> None:
        for value in node.inputs:
            self._readers[value].remove(node)
        for value in node.outputs:
            if self._producers.get(value) is node:
                del self._producers[value]

    def consumers(self, value: str) -> list[OpNode]:
        """Nodes that read ``value`` (each once)."""
        unique: dict[int, OpNode] = {id(n): n for n in self._readers.get(value, [])}
        return list(unique.values())

    def uses(self, value: str) -> int:
        """Number of reads of ``value`` (graph outputs count as one)."""
        return len(self._readers.get(value, [])) + self.outputs.count(value)

    def producer(self, value: str) -> OpNode | None:
        """Node that writes ``value`` (None for inputs and constants)."""
        return self._producers.get(value)

    def rename(self, old: str, new: str) -> None:
        """Make every reader of ``old`` read ``new`` instead."""
        if old == new:
            return
        for node in self.consumers(old):
            node.inputs = [new if v == old else v for v in node.inputs]
        self.outputs = [new if v == old else v for v in self.outputs]

    def remove(self, node: OpNode) -> None:
        """Drop ``node`` from the graph."""
        self._unindex(node)
        self.nodes.remove(node)
        node.graph = None

    def insert_after(self, anchor: OpNode, node: OpNode) -> None:
        """Place ``node`` (new, or already in the graph) right after ``anchor``."""
        if node.graph is self:
            self.remove(node)
        self.nodes.insert(self.nodes.index(anchor) + 1, node)
        node.graph = self
        self._add_to_index(node)

    def insert_before_readers(self, node: OpNode) -> None:
        """Add ``node`` just before the first node that reads one of its outputs."""
        readers = [r for out in node.outputs for r in self._readers.get(out, [])]
        position = min((self.nodes.index(r) for r in readers), default=len(self.nodes))
        self.nodes.insert(position, node)
        node.graph = self
        self._add_to_index(node)

    def bypass(self, node: OpNode, source: str) -> None:
        """Drop ``node`` and make readers of its first output read ``source``."""
        self.remove(node)
        self.rename(node.outputs[0], source)

    def derive_const(self, source: str, name: str, array: np.ndarray) -> str:
        """Store ``array`` (made from constant ``source``) as ``name``; keep its stored dtype."""
        self.consts[name] = array
        if source in self.stored_dtype:
            self.stored_dtype[name] = self.stored_dtype[source]
        return name

    def is_const(self, value: str) -> bool:
        """Whether ``value`` is a known constant."""
        return value in self.consts

    def shape(self, value: str) -> tuple[int, ...] | None:
        """Inferred shape of ``value`` (None when unknown)."""
        if value in self.consts:
            return tuple(int(d) for d in self.consts[value].shape)
        spec = self.specs.get(value)
        return spec.shape if spec is not None else None

    def walk(self) -> Iterator[OpNode]:
        """Iterate over a snapshot of the nodes (safe while rewriting)."""
        yield from list(self.nodes)


def value_spec(value: onnx.ValueInfoProto) -> TensorSpec | None:
    """Concrete spec of an ONNX value (None when its shape is unknown or symbolic)."""
    if not value.type.HasField("tensor_type"):
        return None
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    dims = []
    for dim in tensor_type.shape.dim:
        if not dim.HasField("dim_value") or dim.dim_value < 0:
            return None
        dims.append(int(dim.dim_value))
    return TensorSpec(tuple(dims), onnx_dtype(tensor_type.elem_type))


def work_graph_from_onnx(proto: onnx.ModelProto) -> WorkGraph:
    """Build the working graph of a checked, shape-inferred model."""
    graph = proto.graph
    consts = {
        t.name: placeholder(t) if is_external(t) else numpy_helper.to_array(t)
        for t in graph.initializer
    }
    specs: dict[str, TensorSpec] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        spec = value_spec(value)
        if spec is not None:
            specs[value.name] = spec
    nodes = [
        OpNode(
            op=n.op_type,
            domain=n.domain if n.domain != "ai.onnx" else "",
            inputs=list(n.input),
            outputs=list(n.output),
            attrs={a.name: onnx.helper.get_attribute_value(a) for a in n.attribute},
            name=n.name,
        )
        for n in graph.node
    ]
    inputs = [i.name for i in graph.input if i.name not in consts]
    return WorkGraph(nodes, consts, specs, inputs, [o.name for o in graph.output])
