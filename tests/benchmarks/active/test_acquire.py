from __future__ import annotations

import numpy as np
import pytest

from benchmarks.active.acquire import (
    STRATEGIES,
    disagreement,
    expected_error_reduction,
    facility_location,
    pick_uncertain,
    relevance_weighted,
    select,
)
from predictor.acquisition import standardize, weighted_kcenter


def test_pick_uncertain_prefers_wide_and_spread_out_rows() -> None:
    log_std = np.array([0.1, 0.9, 0.88, 0.5, 0.2])
    log_macs = np.array([0.0, 5.0, 5.01, 9.0, 1.0])
    # row 1 first (widest); row 2 is as wide but sits next to row 1, so row 3 comes before it
    assert pick_uncertain(log_std, log_macs, np.arange(1, 5), np.array([0]), 2) == [1, 3]


def test_eer_picks_the_unexplored_direction_once() -> None:
    # anchors cover axis 0 well; the pool's mass is along axis 1
    emb = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 1.01], [0.0, -1.0], [0.5, 0.0]])
    pool = np.arange(2, 6)
    picks = expected_error_reduction(emb, pool, np.array([0, 1]), 2)
    assert picks[0] in (2, 3, 4) and len(set(picks)) == 2
    assert 5 not in picks


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_select_returns_k_distinct_pool_rows(strategy: str) -> None:
    rng = np.random.default_rng(1)
    n = 40
    emb = rng.normal(size=(n, 3))
    pool = np.arange(5, n)
    rows = select(
        strategy,
        pool=pool,
        measured=np.arange(5),
        k=6,
        emb=emb,
        log_std=rng.uniform(0.1, 1.0, n),
        log_macs=rng.uniform(0, 5, n),
        rng=rng,
        log_mean=emb[:, 0],
    )
    assert len(rows) == 6 and len(set(rows)) == 6 and set(rows) <= set(pool.tolist())


def test_select_rejects_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="coverage"):
        select(
            "greedy",
            pool=np.arange(3),
            measured=np.arange(0),
            k=1,
            emb=np.zeros((3, 1)),
            log_std=np.ones(3),
            log_macs=np.ones(3),
            rng=np.random.default_rng(0),
        )


def test_disagreement_removes_the_shared_noise() -> None:
    noise, member = 0.3, np.array([0.0, 0.1, 0.2])
    d = disagreement(np.sqrt(noise**2 + member**2))
    assert np.allclose(d, member, atol=1e-6)


def _eer_naive(emb: np.ndarray, pool: np.ndarray, measured: np.ndarray, k: int) -> list[int]:
    x = np.hstack([emb, np.ones((len(emb), 1))])
    pts, chosen = x[pool], []
    a_inv = np.linalg.inv(np.eye(x.shape[1]) + x[measured].T @ x[measured])
    left = list(range(len(pool)))
    for _ in range(k):
        gains = [np.sum((pts @ a_inv @ pts[j]) ** 2) / (1 + pts[j] @ a_inv @ pts[j]) for j in left]
        j = left.pop(int(np.argmax(gains)))
        chosen.append(int(pool[j]))
        u = a_inv @ pts[j]
        a_inv = a_inv - np.outer(u, u) / (1 + pts[j] @ u)
    return chosen


def test_eer_rank_one_updates_match_the_direct_computation() -> None:
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(60, 4)) * np.array([3.0, 1.0, 0.5, 0.1])
    pool, measured = np.arange(5, 60), np.arange(5)
    assert expected_error_reduction(emb, pool, measured, 12) == _eer_naive(emb, pool, measured, 12)


def _uncertain_naive(
    log_std: np.ndarray, log_macs: np.ndarray, pool: np.ndarray, measured: np.ndarray, k: int
) -> list[int]:
    """The first form of pick_uncertain: every anchor distance recomputed per pick."""
    anchors, chosen, left = list(log_macs[measured]), [], list(pool)
    for _ in range(min(k, len(left))):
        a = np.asarray(anchors)
        near = np.min(np.abs(log_macs[left][:, None] - a[None, :]), axis=1) if len(a) else 1.0
        row = left.pop(int(np.argmax(log_std[left] * (1.0 + near))))
        chosen.append(int(row))
        anchors.append(log_macs[row])
    return chosen


@pytest.mark.parametrize("n_measured", [0, 1, 7, 300])
def test_pick_uncertain_incremental_matches_the_direct_form(n_measured: int) -> None:
    rng = np.random.default_rng(n_measured)
    n = 700
    log_std = rng.uniform(0.05, 1.0, n)
    log_macs = np.round(rng.uniform(0, 8, n), 2)  # rounded: ties in distance do occur
    order = rng.permutation(n)
    measured, pool = order[:n_measured], order[n_measured:]
    got = pick_uncertain(log_std, log_macs, pool, measured, 40)
    assert got == _uncertain_naive(log_std, log_macs, pool, measured, 40)


def test_facility_location_serves_the_crowd_before_the_outlier() -> None:
    # a dense cluster of 30 rows far from the anchor, and one lone outlier farther still
    rng = np.random.default_rng(0)
    crowd = rng.normal(0.0, 0.1, size=(30, 2)) + np.array([5.0, 0.0])
    emb = np.vstack([[0.0, 0.0], crowd, [[0.0, 12.0]]])
    pool = np.arange(1, 32)
    outlier = 31
    assert weighted_kcenter(emb, pool, np.array([0]), 1) == [outlier]  # k-center: the far row
    first = facility_location(emb, pool, np.array([0]), 1, np.random.default_rng(0))
    assert first[0] in range(1, 31)  # k-medoids: a row of the crowd, it lowers the mean most
    picks = facility_location(emb, pool, np.array([0]), 31, np.random.default_rng(0))
    assert sorted(picks) == list(range(1, 32))  # every row once when k exceeds the pool
    sampled = facility_location(emb, pool, np.array([]), 3, np.random.default_rng(1), sample=10)
    assert len(set(sampled)) == 3 and set(sampled) <= set(pool.tolist())


def test_relevance_weighting_ignores_columns_the_prediction_does_not_use() -> None:
    rng = np.random.default_rng(2)
    emb = standardize(rng.normal(size=(400, 2)))
    log_mean = 0.7 * emb[:, 0]  # the model's prediction moves with column 0 only
    pool = np.arange(1, 400)
    w = relevance_weighted(emb, pool, log_mean)
    assert np.allclose(w[:, 1], 0.0, atol=0.05) and np.allclose(w[:, 0], 2.0 * emb[:, 0], 0.02)
    picks = select(
        "relevant_coverage",
        pool=pool,
        measured=np.array([0]),
        k=2,
        emb=emb,
        log_std=np.ones(400),
        log_macs=np.zeros(400),
        rng=rng,
        log_mean=log_mean,
    )
    ends = {int(pool[np.argmin(emb[pool, 0])]), int(pool[np.argmax(emb[pool, 0])])}
    assert set(picks) == ends  # spread along the column that matters: both of its ends
    assert np.array_equal(relevance_weighted(emb, pool, np.zeros(400)), emb)
    with pytest.raises(ValueError, match="log_mean"):
        select(
            "relevant_coverage",
            pool=pool,
            measured=np.array([0]),
            k=1,
            emb=emb,
            log_std=np.ones(400),
            log_macs=np.zeros(400),
            rng=rng,
        )
