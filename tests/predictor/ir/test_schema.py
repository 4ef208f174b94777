from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable

import pytest

from predictor.ir.schema import GraphIR, Node


@pytest.mark.parametrize("cls", [Node, GraphIR])
def test_compare_key_lists_every_compared_field(
    cls: type, tiny_graph: Callable[..., GraphIR]
) -> None:
    graph = tiny_graph()
    obj = graph if cls is GraphIR else graph.nodes[0]
    compared = tuple(getattr(obj, f.name) for f in dataclasses.fields(obj) if f.compare)
    assert obj._compare_key() == compared


def test_hash_is_cached_and_follows_equality(tiny_graph: Callable[..., GraphIR]) -> None:
    a, b = tiny_graph(8, 3), tiny_graph(8, 3)
    assert a is not b and a == b
    assert hash(a) == hash(b) == a._hash  # cached in the slot after the first call
    assert hash(a.nodes[0]) == a.nodes[0]._hash
    renamed = dataclasses.replace(a, name="other")
    assert renamed == a and hash(renamed) == hash(a)
    assert tiny_graph(4, 3) != a and hash(tiny_graph(4, 3)) != hash(a)
    assert {a: 1}[b] == 1


def test_cached_hash_is_not_serialised(tiny_graph: Callable[..., GraphIR]) -> None:
    graph = tiny_graph()
    hash(graph)
    assert "_hash" not in graph.to_json() and "_hash" not in repr(graph)
    for copy in (GraphIR.from_json(graph.to_json()), pickle.loads(pickle.dumps(graph))):
        assert copy == graph and hash(copy) == hash(graph)


def test_from_json_names_another_ir_version(tiny_graph: Callable[..., GraphIR]) -> None:
    import json

    from pydantic import ValidationError

    from predictor.ir.schema import IRVersionError

    raw = json.loads(tiny_graph().to_json())
    with pytest.raises(IRVersionError, match="999"):
        GraphIR.from_json(json.dumps({**raw, "ir_version": 999}))  # valid otherwise
    with pytest.raises(IRVersionError, match="999"):
        GraphIR.from_json(json.dumps({**raw, "ir_version": 999, "nodes": "not nodes"}))
    with pytest.raises(ValidationError):
        GraphIR.from_json(json.dumps({**raw, "nodes": "not nodes"}))
    assert GraphIR.from_json(json.dumps(raw).encode()) == tiny_graph()
