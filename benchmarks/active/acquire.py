"""Batch selection rules: which pool rows to measure next on a device.

Every rule is label-free given the current model's outputs, so a whole batch is chosen before
any of its measurements arrive (what a device queue needs). Rows live in an *embedding* (one row
per architecture, standardised columns): the few-shot head's inputs (known-device predictions,
cost basis, MACs) or the static graph features.

* ``random``: uniform over the pool (the baseline).
* ``uncertain``: the previous rule: predicted log-std x (1 + log-MAC distance to the nearest
  measured or picked row).
* ``coverage``: k-center greedy in the embedding (pure diversity, no model output).
* ``disagree_diverse``: member disagreement x embedding distance to the nearest measured or
  picked row (uncertainty-weighted k-center: wide *and* far from what is known). Disagreement is
  the predicted log-std above the row-constant noise part: ``sqrt(std^2 - min std^2)``.
* ``eer``: expected error reduction of a ridge-regression surrogate in the embedding: greedily
  the row whose measurement most lowers the summed predictive variance over the whole pool
  (transductive V-optimal design, rank-one updates, so a batch does not repeat itself).
* ``representative``: greedy k-medoids (facility location) in the embedding: each pick most
  lowers the *mean* distance of the pool to its nearest measured or picked row, where
  ``coverage`` lowers the *largest* one. The scores are means over rows drawn like the pool,
  and a model that is accurate near its measured rows errs in proportion to that mean distance;
  k-center instead spends picks on the pool's outliers. Evaluated on a random sample of the pool.
* ``relevant_coverage``: k-center greedy in a relevance-weighted embedding: each column is scaled
  by the size of its coefficient in a ridge fit of the current model's predicted log latency over
  the pool, so distances count the feature differences that move the predicted latency (a
  position whose op choice does not change the latency no longer spreads the picks).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from predictor.acquisition import min_sq_distance, weighted_kcenter

Strategy = Literal[
    "random",
    "uncertain",
    "coverage",
    "disagree_diverse",
    "eer",
    "representative",
    "relevant_coverage",
]
STRATEGIES: tuple[str, ...] = get_args(Strategy)


def expected_error_reduction(
    emb: np.ndarray, pool: np.ndarray, measured: np.ndarray, k: int, ridge: float = 1.0
) -> list[int]:
    """Greedy transductive V-optimal design of a ridge surrogate in ``emb``.

    With ``A = ridge I + sum over measured/picked x x^T``, measuring row ``j`` lowers the summed
    predictive variance over the pool by ``x_j^T A^-1 S A^-1 x_j / (1 + x_j^T A^-1 x_j)``
    (``S`` = pool scatter); the best ``j`` is picked and ``A`` updated (Sherman-Morrison).

    Returns:
        The picked row indices, in pick order.
    """
    x = np.hstack([emb, np.ones((len(emb), 1))])
    pts = x[pool]
    scatter = pts.T @ pts
    a_inv = np.linalg.inv(ridge * np.eye(x.shape[1]) + x[measured].T @ x[measured])
    p = pts @ a_inv  # rows A^-1 x_j, kept current by rank-one updates: O(N d) per pick
    lev = np.sum(p * pts, axis=1)
    num = np.sum((p @ scatter) * p, axis=1)
    taken = np.zeros(len(pool), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(pool))):
        i = int(np.argmax(np.where(taken, -np.inf, num / (1.0 + lev))))
        taken[i] = True
        chosen.append(int(pool[i]))
        u, c = p[i].copy(), 1.0 + lev[i]
        alpha, s_u = pts @ u, scatter @ u
        beta = p @ s_u
        num = num - 2.0 * alpha * beta / c + alpha**2 * float(u @ s_u) / c**2
        lev = lev - alpha**2 / c
        p -= np.outer(alpha, u) / c
    return chosen


def facility_location(
    emb: np.ndarray,
    pool: np.ndarray,
    measured: np.ndarray,
    k: int,
    rng: np.random.Generator,
    sample: int = 2000,
) -> list[int]:
    """Greedy k-medoids: ``k`` pool rows that most lower the mean distance to the nearest anchor.

    Candidates and the rows whose distances are averaged are one random sample of ``sample``
    pool rows (all of them when the pool is smaller), so a pick costs O(sample^2).

    Returns:
        The picked row indices, in pick order.
    """
    pool = np.asarray(pool)
    ref = pool if len(pool) <= sample else np.sort(rng.choice(pool, sample, replace=False))
    pts = emb[ref]
    sq = np.sum(pts**2, axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * pts @ pts.T, 0.0))
    near = np.sqrt(min_sq_distance(pts, emb[np.asarray(measured, dtype=int)]))
    near[~np.isfinite(near)] = dist.max()  # nothing measured yet: the first pick is the medoid
    taken = np.zeros(len(ref), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(ref))):
        gain = np.maximum(near[None, :] - dist, 0.0).sum(axis=1)
        i = int(np.argmax(np.where(taken, -np.inf, gain)))
        taken[i] = True
        chosen.append(int(ref[i]))
        near = np.minimum(near, dist[i])
    return chosen


def relevance_weighted(
    emb: np.ndarray, pool: np.ndarray, log_mean: np.ndarray, ridge: float = 0.01
) -> np.ndarray:
    """``emb``, column ``j`` scaled by ``|b_j|`` of a ridge fit ``log_mean ~ emb b`` on ``pool``.

    The ridge is ``ridge x len(pool)`` (the embedding's columns have unit variance). The result
    is rescaled to unit mean column weight; all-zero coefficients leave ``emb`` unchanged.
    """
    x = emb[pool] - emb[pool].mean(axis=0)
    t = log_mean[pool] - log_mean[pool].mean()
    gram = x.T @ x + ridge * len(pool) * np.eye(x.shape[1])
    w = np.abs(np.linalg.solve(gram, x.T @ t))
    if not np.any(w > 0):
        return emb
    out: np.ndarray = emb * (w / w.mean())
    return out


def disagreement(log_std: np.ndarray) -> np.ndarray:
    """The varying part of a log-std: ``sqrt(std^2 - min std^2)`` (a shared noise term removed)."""
    var = np.square(log_std)
    out: np.ndarray = np.sqrt(np.maximum(var - var.min(), 0.0)) + 1e-9
    return out


def pick_uncertain(
    log_std: np.ndarray, log_macs: np.ndarray, pool: np.ndarray, measured: np.ndarray, k: int
) -> list[int]:
    """``k`` rows of ``pool``: greedy max of log-std x (1 + distance to the nearest anchor).

    The distance to the nearest measured or picked row is kept current per pick (O(pool) per
    pick, not O(pool x anchors)).
    """
    pool = np.asarray(pool)
    m = log_macs[pool]
    anchors = log_macs[np.asarray(measured, dtype=int)]
    near = np.full(len(pool), np.inf)
    for s in range(0, len(anchors), 256):
        a = anchors[s : s + 256]
        near = np.minimum(near, np.min(np.abs(m[:, None] - a[None, :]), axis=1))
    width = log_std[pool]
    taken = np.zeros(len(pool), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(pool))):
        gap = np.where(np.isfinite(near), near, 1.0)  # nothing measured yet: all equally far
        i = int(np.argmax(np.where(taken, -np.inf, width * (1.0 + gap))))
        taken[i] = True
        chosen.append(int(pool[i]))
        near = np.minimum(near, np.abs(m - m[i]))
    return chosen


def select(
    strategy: str,
    *,
    pool: np.ndarray,
    measured: np.ndarray,
    k: int,
    emb: np.ndarray,
    log_std: np.ndarray,
    log_macs: np.ndarray,
    rng: np.random.Generator,
    log_mean: np.ndarray | None = None,
) -> list[int]:
    """The ``k`` pool rows ``strategy`` measures next.

    ``log_mean``: the current model's predicted log latency of every row (needed by
    ``relevant_coverage`` only).

    Raises:
        ValueError: ``strategy`` is not one of :data:`STRATEGIES`.
    """
    if strategy == "random":
        return [int(r) for r in rng.choice(pool, min(k, len(pool)), replace=False)]
    if strategy == "uncertain":
        return pick_uncertain(log_std, log_macs, pool, measured, k)
    if strategy == "coverage":
        return weighted_kcenter(emb, pool, measured, k)
    if strategy == "disagree_diverse":
        return weighted_kcenter(emb, pool, measured, k, weight=disagreement(log_std))
    if strategy == "eer":
        return expected_error_reduction(emb, pool, measured, k)
    if strategy == "representative":
        return facility_location(emb, pool, measured, k, rng)
    if strategy == "relevant_coverage":
        if log_mean is None:
            raise ValueError("relevant_coverage needs log_mean (the model's predictions)")
        return weighted_kcenter(relevance_weighted(emb, pool, log_mean), pool, measured, k)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
