"""Graphs joined from fragments featurize from per-fragment tables, bit for bit as node by node."""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch
from torch_geometric.data import Data

from predictor.features import joined
from predictor.features.featurizer import featurize
from predictor.ir.fragments import joined_from
from predictor.ir.schema import GraphIR
from predictor.spaces.registry import get_space

KEYS = ("op", "x_num", "edge_index", "u_raw", "basis")


def _assert_identical(got: Data, expected: Data) -> None:
    for key in KEYS:
        a, b = getattr(got, key), getattr(expected, key)
        assert a.dtype == b.dtype and a.shape == b.shape, key
        assert torch.equal(a, b), key
    assert got.num_nodes == expected.num_nodes


def _specs(space: str, n: int, seed: int) -> list[str]:
    sp = get_space(space)
    rng = random.Random(seed)
    uniform = [str(c) * 22 for c in range(9)] if space == "fbnet" else []  # every FBNet choice
    return [sp.sample(rng) for _ in range(n)] + uniform


@pytest.mark.parametrize("space", ["fbnet", "nasbench201"])
def test_joined_features_equal_node_by_node_on_sampled_specs(space: str) -> None:
    sp = get_space(space)
    for spec in _specs(space, 150, seed=11):
        graph = sp.to_ir(spec)
        assert joined_from(graph) is not None
        fast = featurize(graph)
        _assert_identical(fast, featurize(dataclasses.replace(graph)))  # same nodes, no parts
        _assert_identical(fast, featurize(GraphIR.from_json(graph.to_json())))  # parsed nodes


def test_joined_features_survive_a_full_fragment_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    sp = get_space("fbnet")
    graphs = [sp.to_ir(s) for s in _specs("fbnet", 5, seed=3)]
    expected = [featurize(dataclasses.replace(g)) for g in graphs]
    monkeypatch.setattr(joined, "_tables", {})
    monkeypatch.setattr(joined, "FRAGMENT_CACHE_SIZE", 2)
    for _ in range(2):
        for graph, want in zip(graphs, expected, strict=True):
            _assert_identical(featurize(graph), want)
    assert len(joined._tables) <= 2
