"""Fragments: frozen links of chain networks, built once and joined into many graphs.

A search space whose networks are chains of a few kinds of block (FBNet's layers, NB201's cells)
writes each block once with :meth:`predictor.ir.builder.GraphBuilder.fragment` and assembles a
graph with :func:`join_fragments`, which gives the IR one builder would give for the whole chain
without re-costing, re-ordering or re-scanning its nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from predictor.ir.schema import GraphIR, Node, TensorSpec


@dataclass(frozen=True, slots=True)
class Fragment:
    """A frozen link of a chain network: one input tensor in, one output tensor out.

    Built once by :meth:`GraphBuilder.fragment` and joined many times by
    :func:`join_fragments`; its nodes are shared (immutable) between every graph that uses it.
    Node indices are local: ``edges`` join the fragment's own nodes, ``input_uses`` lists the
    node read by each use of the input, ``output_node`` is the node producing the output
    (always the last one; ``None`` when the output is the input itself, i.e. no nodes).
    ``peak_activation_bytes`` is the largest live sum over the fragment's own steps, the input
    counted until its last use.
    """

    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int], ...]
    input_uses: tuple[int, ...]
    output_node: int | None
    input: TensorSpec
    output: TensorSpec
    peak_activation_bytes: int
    unknown_ops: tuple[str, ...]

    @property
    def output_op(self) -> str | None:
        """Op type of the node producing the output (``None`` when the output is the input)."""
        return None if self.output_node is None else self.nodes[self.output_node].op_type


def join_fragments(name: str, fragments: Sequence[Fragment]) -> GraphIR:
    """The IR of a chain of fragments, equal to building the whole chain with one builder.

    Valid because each fragment's nodes depend only on its input and all run before its
    output's producer: the depth-first order of the whole graph is then the fragments' orders
    one after the other, and every step's live tensors are its fragment's (input included), so
    the peak is the largest fragment peak.
    """
    nodes: list[Node] = []
    edges: list[tuple[int, int]] = []
    unknown: set[str] = set()
    last: int | None = None  # node producing the current chain tensor; None: the graph input
    for f in fragments:
        offset = len(nodes)
        if last is not None and f.input_uses:
            edges += [(last, offset + c) for c in f.input_uses]
        if f.edges:
            edges += [(offset + p, offset + c) for p, c in f.edges]
        nodes += f.nodes
        if f.unknown_ops:
            unknown.update(f.unknown_ops)
        if f.output_node is not None:
            last = offset + f.output_node
    graph = GraphIR(
        nodes=tuple(nodes),
        edges=tuple(sorted(edges)),
        inputs=(fragments[0].input,),
        outputs=(fragments[-1].output,),
        unknown_ops=tuple(sorted(unknown)),
        peak_activation_bytes=max(f.peak_activation_bytes for f in fragments),
        name=name,
    )
    object.__setattr__(graph, "_parts", tuple(fragments))
    return graph


def joined_from(graph: GraphIR) -> tuple[Fragment, ...] | None:
    """The fragments :func:`join_fragments` built ``graph`` from, in order (else ``None``).

    Only a graph made by :func:`join_fragments` has them: a parsed, copied or replaced graph
    does not (its nodes are then read one by one).
    """
    parts = getattr(graph, "_parts", None)
    return parts  # type: ignore[no-any-return]
