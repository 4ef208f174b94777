"""The product's measurement picker: weighted k-center greedy over static graph features."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from predictor.acquisition import min_sq_distance, select_diverse, standardize, weighted_kcenter
from predictor.ir.schema import GraphIR


def test_standardize_drops_constant_columns() -> None:
    x = np.array([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]])
    z = standardize(x)
    assert z.shape == (3, 2)
    assert np.allclose(z.mean(0), 0.0) and np.allclose(z.std(0), 1.0)


def test_min_sq_distance_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    p, a = rng.normal(size=(50, 3)), rng.normal(size=(7, 3))
    brute = ((p[:, None, :] - a[None, :, :]) ** 2).sum(-1).min(1)
    assert np.allclose(min_sq_distance(p, a, chunk=8), brute)
    assert np.all(np.isinf(min_sq_distance(p, a[:0])))


def test_kcenter_spreads_picks_and_weight_steers_them() -> None:
    emb = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [10.0]])
    pool = np.arange(1, 6)
    # far end first, then the middle cluster: never two neighbours in a row
    assert weighted_kcenter(emb, pool, np.array([0]), 2) == [5, 3]
    weight = np.array([0.0, 1.0, 1.0, 0.01, 0.01, 0.01])
    # with a weight the near-but-uncertain rows win over far-but-certain ones
    assert weighted_kcenter(emb, pool, np.array([0]), 1, weight) == [2]


def test_select_diverse_skips_what_is_already_measured(tiny_graph: Callable[..., GraphIR]) -> None:
    measured = tiny_graph(channels=8)
    same, far, middle = tiny_graph(channels=8), tiny_graph(channels=64), tiny_graph(channels=16)
    picks = select_diverse([same, far, middle], [measured], 2)
    assert picks[0] == 1  # the candidate farthest from the measured graph comes first
    assert 0 not in picks  # an exact copy of a measured graph is never worth measuring first
    assert select_diverse([same, far], [measured], 5) == [1, 0]  # k above the pool: all, once
    assert select_diverse([], [measured], 3) == []


def test_select_diverse_weights_veto_candidates(tiny_graph: Callable[..., GraphIR]) -> None:
    graphs = [tiny_graph(channels=c) for c in (8, 16, 64)]
    assert select_diverse(graphs, [], 1, weights=[0.0, 1.0, 0.0]) == [1]
