"""GraphBuilder: the one way to assemble a :class:`GraphIR`.

Both the ONNX importer and the search-space spec builders add tensors and nodes here; the builder
computes each node's cost (through :mod:`predictor.ir.costs`), the edges, a stable topological
order and the peak activation memory, so both paths give identical IRs for the same network.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from predictor.ir.costs import is_known_op, node_cost
from predictor.ir.fragments import Fragment
from predictor.ir.schema import AttrValue, DType, GraphIR, Node, TensorSpec

#: Reference to a tensor inside a builder (index into its tensor table).
TensorRef = int


@dataclass(slots=True)
class _PendingNode:
    op_type: str
    inputs: tuple[TensorRef, ...]
    outputs: tuple[TensorRef, ...]
    weights: tuple[TensorSpec, ...]
    attrs: tuple[tuple[str, AttrValue], ...]
    dtype: DType
    name: str


#: Attributes as the IR stores them: ``(name, value)`` pairs sorted by name, values hashable.
FrozenAttrs = tuple[tuple[str, AttrValue], ...]


_AttrsIn = Mapping[str, AttrValue | Sequence[int] | Sequence[float]]


def freeze_attrs(attrs: _AttrsIn) -> FrozenAttrs:
    """Attributes in the IR's form (sorted pairs, sequences as tuples)."""
    return tuple(sorted((k, _freeze_attr(v)) for k, v in attrs.items()))


def _freeze_attr(value: AttrValue | Sequence[int] | Sequence[float]) -> AttrValue:
    if isinstance(value, list | tuple):
        return tuple(value)  # type: ignore[return-value]
    if isinstance(value, int | float | str):
        return value
    return tuple(value)  # any other sequence


class GraphBuilder:
    """Incrementally assembles a graph; :meth:`build` returns the immutable :class:`GraphIR`."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._tensors: list[TensorSpec] = []
        self._producer: list[int | None] = []
        self._nodes: list[_PendingNode] = []
        self._inputs: list[TensorRef] = []
        self._outputs: list[TensorRef] = []

    def add_input(self, shape: Sequence[int], dtype: DType = "float32") -> TensorRef:
        """Declare a graph input and return its reference."""
        ref = self._new_tensor(TensorSpec(tuple(int(d) for d in shape), dtype), producer=None)
        self._inputs.append(ref)
        return ref

    def spec(self, ref: TensorRef) -> TensorSpec:
        """Shape and dtype of a tensor already in the graph."""
        return self._tensors[ref]

    def add_node(
        self,
        op_type: str,
        inputs: Sequence[TensorRef],
        outputs: Sequence[TensorSpec],
        *,
        weights: Sequence[TensorSpec] = (),
        attrs: Mapping[str, AttrValue | Sequence[int] | Sequence[float]]
        | FrozenAttrs
        | None = None,
        dtype: DType | None = None,
        name: str = "",
    ) -> list[TensorRef]:
        """Add one operator; returns references to its outputs.

        Args:
            op_type: canonical op type (see :data:`predictor.ir.costs.KNOWN_OPS`); anything
                else is kept as a generic node and listed in ``unknown_ops``.
            inputs: activation inputs, in operator order.
            outputs: output tensor specs (from shape inference or a space's own shape code).
            weights: constant inputs (weights, bias, constant operands).
            attrs: canonical attributes (``kernel_shape``, ``strides``, ``pads``, ...), as a
                mapping or already in :func:`freeze_attrs` form (a tuple, used as it is).
            dtype: compute dtype; defaults to the first input's (or output's) dtype.
            name: original node name (ignored by IR equality).
        """
        frozen = attrs if isinstance(attrs, tuple) else freeze_attrs(attrs) if attrs else ()
        if dtype is None:
            first = self._tensors[inputs[0]] if inputs else (outputs[0] if outputs else None)
            dtype = first.dtype if first is not None else "float32"
        index = len(self._nodes)
        out_refs = tuple(self._new_tensor(spec, producer=index) for spec in outputs)
        self._nodes.append(
            _PendingNode(op_type, tuple(inputs), out_refs, tuple(weights), frozen, dtype, name)
        )
        return list(out_refs)

    def mark_output(self, ref: TensorRef) -> None:
        """Declare a graph output."""
        self._outputs.append(ref)

    def _new_tensor(self, spec: TensorSpec, producer: int | None) -> TensorRef:
        self._tensors.append(spec)
        self._producer.append(producer)
        return len(self._tensors) - 1

    def _topological_order(self) -> list[int]:
        """Depth-first Kahn order that depends on the graph, not on how it was written down.

        Among ready nodes, the one fed by the most recently scheduled node goes first (so each
        branch runs to its end before the next starts), then the one reading that node's
        lowest output slot, then insertion order. Two producers that add the same nodes in
        different valid orders (e.g. two exporters) get the same order and the same peak memory.
        """
        nodes, producers = self._nodes, self._producer
        indegree = [0] * len(nodes)
        consumers: list[list[tuple[int, int]]] = [[] for _ in nodes]
        for i, node in enumerate(nodes):
            for ref in node.inputs:
                producer = producers[ref]
                if producer is not None:
                    indegree[i] += 1
                    consumers[producer].append((i, nodes[producer].outputs.index(ref)))
        ready = [(1, 0, i) for i, d in enumerate(indegree) if d == 0]
        heapq.heapify(ready)
        order: list[int] = []
        while ready:
            _, _, i = heapq.heappop(ready)
            step = len(order)
            order.append(i)
            slots: dict[int, int] = {}
            for j, slot in consumers[i]:
                indegree[j] -= 1
                slots[j] = min(slot, slots.get(j, slot))
            for j, slot in slots.items():
                if indegree[j] == 0:
                    heapq.heappush(ready, (-step, slot, j))
        if len(order) != len(self._nodes):
            raise ValueError("graph has a cycle")
        return order

    def _peak_activation_bytes(self, order: list[int]) -> int:
        """Largest sum of live tensors over the execution order.

        A tensor is live from its producer's step (graph inputs: from the start) to its last
        consumer's step; graph outputs stay live to the end. Each step counts its inputs and
        outputs together.
        """
        end = len(order)
        position = [0] * len(self._nodes)
        for step, node_index in enumerate(order):
            position[node_index] = step
        last_use = [-1] * len(self._tensors)
        for node_index, node in enumerate(self._nodes):
            step = position[node_index]
            for ref in node.inputs:
                if step > last_use[ref]:
                    last_use[ref] = step
        for ref in self._outputs:
            last_use[ref] = end
        delta = [0] * (end + 2)
        for ref, spec in enumerate(self._tensors):
            producer = self._producer[ref]
            if producer is None and last_use[ref] < 0:
                continue
            start = 0 if producer is None else position[producer]
            nbytes = spec.nbytes
            delta[start] += nbytes
            delta[max(last_use[ref], start) + 1] -= nbytes
        peak = live = 0
        for change in delta:
            live += change
            if live > peak:
                peak = live
        return peak

    def _frozen_nodes(
        self, order: list[int]
    ) -> tuple[tuple[Node, ...], list[tuple[int, int]], set[str]]:
        """Nodes in ``order`` with their costs, the edges between them and the unknown ops."""
        new_index = {old: new for new, old in enumerate(order)}
        nodes: list[Node] = []
        edges: list[tuple[int, int]] = []
        unknown: set[str] = set()
        for old in order:
            p = self._nodes[old]
            if not is_known_op(p.op_type):
                unknown.add(p.op_type)
            nodes.append(_node(p, self._tensors))
            for ref in p.inputs:
                producer = self._producer[ref]
                if producer is not None:
                    edges.append((new_index[producer], new_index[old]))
        return tuple(nodes), edges, unknown

    def build(self) -> GraphIR:
        """Compute costs, edges and memory; return the immutable IR."""
        order = self._topological_order()
        nodes, edges, unknown = self._frozen_nodes(order)
        return GraphIR(
            nodes=nodes,
            edges=tuple(sorted(edges)),
            inputs=tuple(self._tensors[r] for r in self._inputs),
            outputs=tuple(self._tensors[r] for r in self._outputs),
            unknown_ops=tuple(sorted(unknown)),
            peak_activation_bytes=self._peak_activation_bytes(order),
            name=self.name,
        )

    def steps(self, refs: Sequence[TensorRef]) -> tuple[int | None, ...]:
        """Execution step (node index in the built IR) of each tensor's producer.

        ``None`` for a graph input. Lets a writer find the nodes it wrote for a given layer.
        """
        step = {node: i for i, node in enumerate(self._topological_order())}
        return tuple(None if (p := self._producer[r]) is None else step[p] for r in refs)

    def fragment(self, output: TensorRef) -> Fragment:
        """Freeze a one-input, one-output piece of a chain (see :class:`Fragment`).

        Args:
            output: the tensor the piece hands to the next one (may be the input itself).

        Raises:
            ValueError: the builder has not exactly one input, no outputs may be marked, or a
                node runs after ``output``'s producer (so the piece is no chain link).
        """
        if len(self._inputs) != 1 or self._outputs:
            raise ValueError("a fragment has exactly one input and no marked outputs")
        order = self._topological_order()
        nodes, edges, unknown = self._frozen_nodes(order)
        producer = self._producer[output]
        output_node = None if producer is None else order.index(producer)
        if (output_node is None and nodes) or output_node not in (None, len(nodes) - 1):
            raise ValueError("every node of a fragment must run before its output's producer")
        (source,) = self._inputs
        position = {old: new for new, old in enumerate(order)}
        uses = [position[i] for i, p in enumerate(self._nodes) for r in p.inputs if r == source]
        return Fragment(
            nodes=nodes,
            edges=tuple(sorted(edges)),
            input_uses=tuple(sorted(uses)),
            output_node=output_node,
            input=self._tensors[source],
            output=self._tensors[output],
            peak_activation_bytes=self._peak_activation_bytes(order),
            unknown_ops=tuple(sorted(unknown)),
        )


def _node(p: _PendingNode, tensors: list[TensorSpec]) -> Node:
    ins = tuple(tensors[r] for r in p.inputs)
    outs = tuple(tensors[r] for r in p.outputs)
    if p.name:
        return _new_node(p.op_type, ins, outs, p.weights, p.attrs, p.dtype, p.name)
    return _shared_node(p.op_type, ins, outs, p.weights, p.attrs, p.dtype)


def _new_node(
    op_type: str,
    ins: tuple[TensorSpec, ...],
    outs: tuple[TensorSpec, ...],
    weights: tuple[TensorSpec, ...],
    attrs: tuple[tuple[str, AttrValue], ...],
    dtype: DType,
    name: str = "",
) -> Node:
    cost = node_cost(op_type, dict(attrs), ins, outs, weights)
    return Node(
        op_type=op_type,
        inputs=ins,
        outputs=outs,
        weights=weights,
        attrs=attrs,
        dtype=dtype,
        macs=cost.macs,
        flops=cost.flops,
        params=sum(w.numel for w in weights),
        weight_bytes=sum(w.nbytes for w in weights),
        output_bytes=sum(o.nbytes for o in outs),
        name=name,
    )


#: Unnamed nodes (all that search spaces write) are immutable and equal by value, so equal ones
#: are built, costed and stored once and shared by every graph (a featurizer may memoize them).
_shared_node = lru_cache(maxsize=32768)(_new_node)
