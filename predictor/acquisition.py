"""Which candidate graphs are most worth measuring next on a device (label-free).

Weighted k-center greedy in a standardised static-feature embedding: each pick maximises
weight x distance to the nearest measured graph or earlier pick. The service planner reaches it
through :func:`predictor.api.select_measurements`; the other selection rules compared against it
are experiments in ``benchmarks/active``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor.features.featurizer import cost_basis, graph_numeric
from predictor.ir.schema import GraphIR


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
