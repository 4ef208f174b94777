"""The graph IR: a typed, versioned description of one neural network.

Produced by converters (ONNX in :mod:`predictor.ir.onnx_import`, search-space specs in
:mod:`predictor.spaces`) through :class:`predictor.ir.builder.GraphBuilder`; stored by the
service as JSON; turned into tensors only by the featurizer.

Equality (``==``) compares structure, shapes, dtypes, attributes and costs, never names, so the
same network exported by two exporters gives equal IRs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import TypeAdapter, ValidationError

#: Bump when the meaning or shape of the IR changes; artifacts record the version they saw.
IR_VERSION = 1

DType = Literal[
    "float32",
    "float16",
    "bfloat16",
    "float64",
    "int8",
    "uint8",
    "int16",
    "int32",
    "int64",
    "bool",
    "other",
]
DTYPES: tuple[str, ...] = get_args(DType)

DTYPE_BYTES: dict[str, int] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "bool": 1,
    "other": 4,
}

AttrValue = int | float | str | tuple[int, ...] | tuple[float, ...] | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """Shape and element type of one tensor (concrete shape, batch included)."""

    shape: tuple[int, ...]
    dtype: DType = "float32"

    @property
    def numel(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        """Storage size in bytes."""
        return self.numel * DTYPE_BYTES[self.dtype]


class _HashOnce:
    """Keeps a frozen dataclass's hash in a slot after its first computation.

    Graphs are dictionary keys (feature caches) and hashing one recomputes the hash of every
    node, tensor and attribute recursively. The slot is not a dataclass field: equality,
    ``repr``, serialisation and pickling ignore it (an unpickled copy recomputes it once).
    """

    __slots__ = ("_hash",)
    _hash: int

    def _compare_key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def _cached_hash(self) -> int:
        try:
            return self._hash
        except AttributeError:
            value = hash(self._compare_key())
            object.__setattr__(self, "_hash", value)
            return value


@dataclass(frozen=True, slots=True)
class Node(_HashOnce):
    """One operator with its canonical type, attributes, tensors and own cost.

    ``inputs`` are the activation (non-constant) inputs in operator order; ``weights`` the
    constant inputs (weights, biases, constant operands). ``attrs`` is a sorted tuple of
    ``(name, value)`` pairs so nodes are hashable; use :meth:`attr` to read one.
    """

    op_type: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    weights: tuple[TensorSpec, ...]
    attrs: tuple[tuple[str, AttrValue], ...]
    dtype: DType
    macs: int
    flops: int
    params: int
    weight_bytes: int
    output_bytes: int
    name: str = field(default="", compare=False)

    # Explicit in the class body, or @dataclass would install its own (uncached) hash.
    __hash__ = _HashOnce._cached_hash

    def _compare_key(self) -> tuple[object, ...]:
        """The fields equality compares (everything but ``name``), in declaration order."""
        return (
            self.op_type,
            self.inputs,
            self.outputs,
            self.weights,
            self.attrs,
            self.dtype,
            self.macs,
            self.flops,
            self.params,
            self.weight_bytes,
            self.output_bytes,
        )

    def attr(self, key: str, default: AttrValue | None = None) -> AttrValue | None:
        """Value of attribute ``key`` or ``default``."""
        for name, value in self.attrs:
            if name == key:
                return value
        return default

    @property
    def attr_dict(self) -> dict[str, AttrValue]:
        """Attributes as a dict."""
        return dict(self.attrs)


class _Joined(_HashOnce):
    """A graph's non-field slot for the fragments it was joined from.

    Set by :func:`predictor.ir.fragments.join_fragments` and read through
    :func:`predictor.ir.fragments.joined_from`, so the featurizer can reuse per-fragment tables.
    Like the hash slot it is invisible to equality, ``repr``, serialisation and pickling.
    """

    __slots__ = ("_parts",)
    _parts: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class GraphIR(_Joined):
    """A whole network: nodes in a topological execution order and tensor edges between them.

    ``edges`` holds ``(producer_index, consumer_index)`` pairs, one per tensor use, sorted.
    Graph-level static features are derived properties; ``peak_activation_bytes`` is computed
    by the builder (largest sum of live tensors over the execution order).
    """

    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int], ...]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    unknown_ops: tuple[str, ...]
    peak_activation_bytes: int
    ir_version: int = IR_VERSION
    name: str = field(default="", compare=False)

    __hash__ = _HashOnce._cached_hash

    def _compare_key(self) -> tuple[object, ...]:
        """The fields equality compares (everything but ``name``), in declaration order."""
        return (
            self.nodes,
            self.edges,
            self.inputs,
            self.outputs,
            self.unknown_ops,
            self.peak_activation_bytes,
            self.ir_version,
        )

    @property
    def num_nodes(self) -> int:
        """Number of operators."""
        return len(self.nodes)

    @property
    def macs(self) -> int:
        """Total multiply-accumulates (see :mod:`predictor.ir.costs` for the convention)."""
        return sum(n.macs for n in self.nodes)

    @property
    def flops(self) -> int:
        """Total floating point (or integer) operations."""
        return sum(n.flops for n in self.nodes)

    @property
    def params(self) -> int:
        """Total parameter count (elements of constant inputs)."""
        return sum(n.params for n in self.nodes)

    @property
    def model_bytes(self) -> int:
        """Bytes of all weights in their stored dtype (int8 weights count one byte)."""
        return sum(n.weight_bytes for n in self.nodes)

    @property
    def op_counts(self) -> dict[str, int]:
        """Canonical op type -> number of nodes, sorted by op type."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.op_type] = counts.get(n.op_type, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        """Graph-level static features, the contract of ``perfloop inspect --json``."""
        return {
            "ir_version": self.ir_version,
            "macs": self.macs,
            "flops": self.flops,
            "params": self.params,
            "model_bytes": self.model_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "num_nodes": self.num_nodes,
            "op_counts": self.op_counts,
            "unknown_ops": list(self.unknown_ops),
            "inputs": [{"shape": list(t.shape), "dtype": t.dtype} for t in self.inputs],
            "outputs": [{"shape": list(t.shape), "dtype": t.dtype} for t in self.outputs],
        }

    def to_json(self) -> str:
        """Serialise to a JSON string (round-trips through :meth:`from_json`)."""
        return _ADAPTER.dump_json(self).decode()

    @staticmethod
    def from_json(text: str | bytes) -> GraphIR:
        """Parse JSON written by :meth:`to_json`.

        Raises:
            IRVersionError: the JSON was written by another IR version.
        """
        try:
            graph = _ADAPTER.validate_json(text)  # parsed in pydantic-core: ~1.3x json.loads path
        except ValidationError:
            _check_version(json.loads(text).get("ir_version"))  # name the version, if it differs
            raise
        _check_version(graph.ir_version)
        return graph


def _check_version(version: object) -> None:
    if version != IR_VERSION:
        raise IRVersionError(
            f"graph IR version {version!r} is not supported (expected {IR_VERSION})"
        )


class IRVersionError(ValueError):
    """A stored IR or artifact was produced by a different IR version."""


_ADAPTER: TypeAdapter[GraphIR] = TypeAdapter(GraphIR)
