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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from predictor.features.featurizer import cost_basis, graph_numeric
from predictor.ir.schema import GraphIR

Strategy = Literal["random", "uncertain", "coverage", "disagree_diverse", "eer"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)


def standardize(x: np.ndarray) -> np.ndarray:
    """Columns with spread, centred and scaled to unit variance (constant columns dropped)."""
    sd = x.std(axis=0)
    keep = sd > 1e-12
    out: np.ndarray = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    return out


def min_sq_distance(points: np.ndarray, anchors: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Squared Euclidean distance of each row of ``points`` to its nearest row of ``anchors``."""
    if len(anchors) == 0:
        return np.full(len(points), np.inf)
    a2 = np.sum(anchors**2, axis=1)
    out = np.empty(len(points))
    for s in range(0, len(points), chunk):
        p = points[s : s + chunk]
        d = np.sum(p**2, axis=1)[:, None] + a2[None, :] - 2.0 * p @ anchors.T
        out[s : s + chunk] = np.maximum(d.min(axis=1), 0.0)
    return out


def weighted_kcenter(
    emb: np.ndarray,
    pool: np.ndarray,
    measured: np.ndarray,
    k: int,
    weight: np.ndarray | None = None,
) -> list[int]:
    """Greedy: ``k`` pool rows maximising weight x distance to the nearest measured/picked row.

    Args:
        emb: ``[N, d]`` embedding of every row.
        pool: candidate row indices.
        measured: row indices already measured (anchors).
        k: rows to pick.
        weight: ``[N]`` non-negative weights (None: pure k-center).

    Returns:
        The picked row indices, in pick order.
    """
    pts = emb[pool]
    dist = np.sqrt(min_sq_distance(pts, emb[measured]))
    dist[~np.isfinite(dist)] = 1.0  # nothing measured yet: every row equally far
    w = np.ones(len(pool)) if weight is None else weight[pool]
    taken = np.zeros(len(pool), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, len(pool))):
        value = np.where(taken, -np.inf, w * dist)
        i = int(np.argmax(value))
        taken[i] = True
        chosen.append(int(pool[i]))
        dist = np.minimum(dist, np.sqrt(np.sum((pts - pts[i]) ** 2, axis=1)))
    return chosen


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


def disagreement(log_std: np.ndarray) -> np.ndarray:
    """The varying part of a log-std: ``sqrt(std^2 - min std^2)`` (a shared noise term removed)."""
    var = np.square(log_std)
    out: np.ndarray = np.sqrt(np.maximum(var - var.min(), 0.0)) + 1e-9
    return out


def pick_uncertain(
    log_std: np.ndarray, log_macs: np.ndarray, pool: np.ndarray, measured: np.ndarray, k: int
) -> list[int]:
    """``k`` rows of ``pool``: greedy max of log-std x (1 + distance to the nearest anchor)."""
    anchors = list(log_macs[measured])
    chosen: list[int] = []
    left = list(pool)
    for _ in range(min(k, len(left))):
        a = np.asarray(anchors)
        near = np.min(np.abs(log_macs[left][:, None] - a[None, :]), axis=1) if len(a) else 1.0
        best = int(np.argmax(log_std[left] * (1.0 + near)))
        row = left.pop(best)
        chosen.append(row)
        anchors.append(log_macs[row])
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
) -> list[int]:
    """The ``k`` pool rows ``strategy`` measures next.

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
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def static_embedding(graphs: Sequence[GraphIR]) -> np.ndarray:
    """One row per graph: log1p graph-level static features and per-op-type cost sums.

    Label-free and comparable across search spaces (the op-type sums tell a depthwise-heavy
    FBNet net from a dense NB201 cell net even at equal MACs). Columns are not standardised.
    """
    rows = [np.concatenate([np.log1p(graph_numeric(g)), np.log1p(cost_basis(g))]) for g in graphs]
    return np.asarray(rows, dtype=np.float64).reshape(len(graphs), -1)


def select_diverse(
    candidates: Sequence[GraphIR],
    measured: Sequence[GraphIR],
    k: int,
    weights: Sequence[float] | None = None,
) -> list[int]:
    """Indices of ``k`` candidates to measure next: (weighted) k-center greedy.

    Each pick maximises weight x distance, in the standardised :func:`static_embedding`, to the
    nearest measured graph or earlier pick (with ``weights`` None this is the ``coverage`` rule
    of ``perfloop bench active``).

    Args:
        candidates: graphs that could be measured.
        measured: graphs already measured on the device (anchors).
        k: how many to pick.
        weights: optional non-negative per-candidate weights (e.g. interval widths).

    Returns:
        Candidate indices in pick order (at most ``k``).
    """
    if not candidates or k <= 0:
        return []
    emb = standardize(static_embedding([*candidates, *measured]))
    n = len(candidates)
    pool = np.arange(n)
    anchors = np.arange(n, n + len(measured))
    w = None
    if weights is not None:
        w = np.concatenate([np.asarray(weights, dtype=np.float64), np.ones(len(measured))])
    return weighted_kcenter(emb, pool, anchors, k, weight=w)
