"""The network fingerprint: equal for the spec's IR and its exported ONNX, blind to names."""

from __future__ import annotations

import dataclasses
import random

import pytest

from predictor.ir.fingerprint import graph_fingerprint
from predictor.ir.onnx_import import ir_from_onnx
from predictor.spaces.registry import get_space


@pytest.mark.parametrize("space_name", ["nasbench201", "fbnet", "kws"])
def test_spec_and_its_onnx_share_the_fingerprint(space_name: str) -> None:
    space = get_space(space_name)
    spec = space.sample(random.Random(3))
    from_spec, from_onnx = space.to_ir(spec), ir_from_onnx(space.to_onnx(spec))
    assert from_spec.name != from_onnx.name  # the names differ, the network does not
    assert graph_fingerprint(from_spec) == graph_fingerprint(from_onnx)


def test_names_do_not_count_but_structure_does() -> None:
    space = get_space("nasbench201")
    rng = random.Random(0)
    graph = space.to_ir(space.sample(rng))
    renamed = dataclasses.replace(
        graph,
        name="other",
        nodes=tuple(dataclasses.replace(n, name=f"n{i}") for i, n in enumerate(graph.nodes)),
    )
    assert graph_fingerprint(renamed) == graph_fingerprint(graph)
    fingerprints = {graph_fingerprint(space.to_ir(space.sample(rng))) for _ in range(20)}
    assert len(fingerprints) > 15  # distinct cells give distinct fingerprints (few collide)
    assert all(len(fp) == 64 for fp in fingerprints)
