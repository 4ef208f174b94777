"""GraphBuilder: the one way to assemble a :class:`GraphIR`.

Both the ONNX importer and the search-space spec builders add tensors and nodes here; the builder
computes each node's cost (through :mod:`predictor.ir.costs`), the edges, a stable topological
order and the peak activation memory, so both paths give identical IRs for the same network.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from predictor.ir.costs import is_known_op, node_cost
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
        attrs: Mapping[str, AttrValue | Sequence[int] | Sequence[float]] | None = None,
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
            attrs: canonical attributes (``kernel_shape``, ``strides``, ``pads``, ...).
            dtype: compute dtype; defaults to the first input's (or output's) dtype.
            name: original node name (ignored by IR equality).
        """
        frozen = tuple(sorted((k, _freeze_attr(v)) for k, v in (attrs or {}).items()))
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
        indegree = [0] * len(self._nodes)
        consumers: list[list[tuple[int, int]]] = [[] for _ in self._nodes]
        for i, node in enumerate(self._nodes):
            for ref in node.inputs:
                producer = self._producer[ref]
                if producer is not None:
                    indegree[i] += 1
                    slot = self._nodes[producer].outputs.index(ref)
                    consumers[producer].append((i, slot))
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
        position = {node: step for step, node in enumerate(order)}
        end = len(order)
        last_use = [-1] * len(self._tensors)
        for node_index, node in enumerate(self._nodes):
            for ref in node.inputs:
                last_use[ref] = max(last_use[ref], position[node_index])
        for ref in self._outputs:
            last_use[ref] = end
        delta = [0] * (end + 2)
        for ref, spec in enumerate(self._tensors):
            producer = self._producer[ref]
            start = 0 if producer is None else position[producer]
            stop = max(last_use[ref], start)
            if producer is None and last_use[ref] < 0:
                continue
            delta[start] += spec.nbytes
            delta[stop + 1] -= spec.nbytes
        peak = live = 0
        for step in range(end + 1):
            live += delta[step]
            peak = max(peak, live)
        return peak

    def build(self) -> GraphIR:
        """Compute costs, edges and memory; return the immutable IR."""
        order = self._topological_order()
        new_index = {old: new for new, old in enumerate(order)}
        nodes: list[Node] = []
        edges: list[tuple[int, int]] = []
        unknown: set[str] = set()
        for old in order:
            p = self._nodes[old]
            ins = tuple(self._tensors[r] for r in p.inputs)
            outs = tuple(self._tensors[r] for r in p.outputs)
            if not is_known_op(p.op_type):
                unknown.add(p.op_type)
            cost = node_cost(p.op_type, dict(p.attrs), ins, outs, p.weights)
            nodes.append(
                Node(
                    op_type=p.op_type,
                    inputs=ins,
                    outputs=outs,
                    weights=p.weights,
                    attrs=p.attrs,
                    dtype=p.dtype,
                    macs=cost.macs,
                    flops=cost.flops,
                    params=sum(w.numel for w in p.weights),
                    weight_bytes=sum(w.nbytes for w in p.weights),
                    output_bytes=sum(o.nbytes for o in outs),
                    name=p.name,
                )
            )
            for ref in p.inputs:
                producer = self._producer[ref]
                if producer is not None:
                    edges.append((new_index[producer], new_index[old]))
        return GraphIR(
            nodes=tuple(nodes),
            edges=tuple(sorted(edges)),
            inputs=tuple(self._tensors[r] for r in self._inputs),
            outputs=tuple(self._tensors[r] for r in self._outputs),
            unknown_ops=tuple(sorted(unknown)),
            peak_activation_bytes=self._peak_activation_bytes(order),
            name=self.name,
        )
