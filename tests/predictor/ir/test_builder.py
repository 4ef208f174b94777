"""GraphBuilder: the execution order depends on the graph, not on insertion order."""

from __future__ import annotations

from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR, TensorSpec

X = TensorSpec((1, 8))


def _two_branches(q_first: bool) -> GraphIR:
    """Split into q/k; each branch Relu -> Sigmoid; Add. Branch nodes added in either order."""
    b = GraphBuilder()
    x = b.add_input(X.shape)
    q, k = b.add_node("Split", [x], [TensorSpec((1, 4)), TensorSpec((1, 4))], attrs={"axis": 1})
    heads: dict[str, int] = {}
    names = ["q", "k"] if q_first else ["k", "q"]
    source = {"q": q, "k": k}
    for name in names:
        (heads[name],) = b.add_node("Relu", [source[name]], [TensorSpec((1, 4))])
    for name in names:
        (heads[name],) = b.add_node("Sigmoid", [heads[name]], [TensorSpec((1, 4))])
    (y,) = b.add_node("Add", [heads["q"], heads["k"]], [TensorSpec((1, 4))])
    b.mark_output(y)
    return b.build()


def test_order_is_depth_first_and_independent_of_insertion_order() -> None:
    a, b = _two_branches(q_first=True), _two_branches(q_first=False)
    assert a == b
    assert [n.op_type for n in a.nodes] == ["Split", "Relu", "Sigmoid", "Relu", "Sigmoid", "Add"]
    # q's branch (output slot 0) runs first: Relu reads Split output 0
    assert a.edges[0] == (0, 1)


def test_peak_memory_of_depth_first_order() -> None:
    graph = _two_branches(q_first=True)
    # Split step: x (32 B) + q + k (16 B each) = 64 B; every later step holds three 16 B tensors
    assert graph.peak_activation_bytes == 64


def test_steps_are_the_execution_positions_of_producers() -> None:
    b = GraphBuilder()
    x = b.add_input(X.shape)
    (r,) = b.add_node("Relu", [x], [X])
    (s,) = b.add_node("Sigmoid", [x], [X])
    (t,) = b.add_node("Tanh", [r], [X])  # added last, runs second: depth first after the Relu
    (y,) = b.add_node("Add", [t, s], [X])
    assert b.steps([x, r, s, t, y]) == (None, 0, 2, 1, 3)
