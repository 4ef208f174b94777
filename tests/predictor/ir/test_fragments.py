"""Fragments joined into a chain give the IR one builder gives for the whole chain."""

from __future__ import annotations

import pytest

from predictor.ir.builder import GraphBuilder
from predictor.ir.fragments import Fragment, join_fragments
from predictor.ir.schema import TensorSpec

X = TensorSpec((1, 8))


def _write_link(b: GraphBuilder, x: int, kind: str) -> int:
    """One chain link: a diamond (Split, two branches, Add, kept x), a Relu, or nothing."""
    if kind == "diamond":
        q, k = b.add_node("Split", [x], [TensorSpec((1, 4)), TensorSpec((1, 4))])
        (q,) = b.add_node("Relu", [q], [TensorSpec((1, 4))])
        (y,) = b.add_node("Concat", [k, q], [X], attrs={"axis": 1})
        (y,) = b.add_node("Add", [y, x], [X])
        return y
    if kind == "relu":
        (y,) = b.add_node("Relu", [x], [X])
        return y
    return x


def _fragment(kind: str) -> Fragment:
    b = GraphBuilder()
    x = b.add_input(X.shape)
    return b.fragment(_write_link(b, x, kind))


def test_joined_fragments_equal_one_builder() -> None:
    kinds = ["relu", "diamond", "none", "diamond", "none", "relu", "diamond"]
    whole = GraphBuilder("chain")
    x = whole.add_input(X.shape)
    for kind in kinds:
        x = _write_link(whole, x, kind)
    whole.mark_output(x)
    expected = whole.build()
    joined = join_fragments("chain", [_fragment(k) for k in kinds])
    assert joined == expected
    # Concat step of a diamond: x (32 B, kept for the Add) + k + relu(q) (16 B each) + y (32 B)
    assert joined.edges == expected.edges and joined.peak_activation_bytes == 96
    assert joined.name == "chain"


def test_fragment_of_identity_link_has_no_nodes() -> None:
    link = _fragment("none")
    assert link.nodes == () and link.output_node is None and link.output_op is None
    assert link.peak_activation_bytes == 0


def test_fragment_rejects_a_node_that_runs_after_the_output() -> None:
    b = GraphBuilder()
    x = b.add_input(X.shape)
    (y,) = b.add_node("Relu", [x], [X])
    b.add_node("Sigmoid", [x], [X])  # never reaches y: it would run in the next link's place
    with pytest.raises(ValueError, match="before its output"):
        b.fragment(y)


def test_joined_graph_keeps_its_fragments_and_copies_do_not() -> None:
    import dataclasses
    import pickle

    from predictor.ir.fragments import joined_from
    from predictor.ir.schema import GraphIR

    parts = [_fragment("relu"), _fragment("diamond"), _fragment("none")]
    graph = join_fragments("chain", parts)
    assert joined_from(graph) == tuple(parts)
    for copy in (
        dataclasses.replace(graph),
        GraphIR.from_json(graph.to_json()),
        pickle.loads(pickle.dumps(graph)),
    ):
        assert copy == graph and joined_from(copy) is None
