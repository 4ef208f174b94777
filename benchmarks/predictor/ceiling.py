"""Noise ceilings of NAS-Bench-201 latency columns: the best scores the data's own noise allows.

Three estimates per device column, each a different view of the same question:

* **Rounding** (whole-millisecond columns): if the true value is uniform within ±0.5 ms of the
  record, a perfect predictor of the true value is off by up to ``0.5 / L``; the expected share of
  rows where that alone exceeds 10%, and the MAPE it alone costs. A bound from one noise source.
* **Equivalent-cost oracle**: the network runs every edge of every cell (eager execution), so
  archs with the same multiset of the 6 edge ops run the same kernels; where that cost
  equivalence holds, the leave-one-out mean of a row's equivalence group (about 74 rows each) is
  as good as any predictor can be up to a small sampling error, so its scores estimate the
  ceiling, and the pooled within-group spread of log latency estimates the measurement noise.
  Where position matters on a device, the group mixes different costs and the oracle is only a
  lower bound of the ceiling.
* **Position model**: gradient-boosted trees on (edge, op) one-hot + op counts trained on 80% of
  the rows and scored on the rest; an achievable score, so also a lower bound of the ceiling. When
  it beats the oracle, position matters on that device and the oracle is not the ceiling.

HW-NAS-Bench's raspi4/pixel3 columns hold ~0.01-1 ms for archs whose cell output is dead (no
path of non-``none`` edges from the cell input to its output); those rows are counted
separately, and the oracle is also scored without them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from benchmarks.baselines.arch_features import onehot_positions
from benchmarks.baselines.models import make_baseline
from predictor.data.tables import LatencyTable
from predictor.metrics import score

_TOKEN = re.compile(r"\|([^|~+]+)~\d+")
#: Edges of the NB201 cell in arch-string order, as (source node, target node).
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
SCORE_KEYS: tuple[str, ...] = ("spearman", "mape", "acc_5", "acc_10")


def edge_ops(arch: str) -> tuple[str, ...]:
    """The 6 edge operations of a NAS-Bench-201 arch string, in string order.

    Raises:
        ValueError: ``arch`` does not have 6 edges.
    """
    ops = tuple(_TOKEN.findall(arch))
    if len(ops) != len(EDGES):
        raise ValueError(f"not a NAS-Bench-201 arch (expected 6 edges): {arch!r}")
    return ops


def dead_cell(ops: Sequence[str]) -> bool:
    """True when no path of non-``none`` edges joins the cell input (node 0) to its output."""
    reached = {0}
    for (src, dst), op in zip(EDGES, ops, strict=True):
        if op != "none" and src in reached:
            reached.add(dst)
    return 3 not in reached


def rounding_bound(values_ms: np.ndarray, tolerance: float = 0.1) -> tuple[float, float]:
    """Error that ±0.5 ms rounding alone causes a perfect predictor of the true value.

    With the true value uniform in ``[L - 0.5, L + 0.5]`` for record ``L``, the relative error
    exceeds ``tolerance`` with probability ``max(0, 1 - 2 * tolerance * L)``; its mean is
    ``0.25 / L``.

    Returns:
        (expected share of rows off by more than ``tolerance``, expected MAPE as a fraction).
    """
    v = np.asarray(values_ms, dtype=np.float64)
    share = float(np.mean(np.clip(1.0 - 2.0 * tolerance * v, 0.0, 1.0)))
    return share, float(np.mean(0.25 / v))


def group_ids(keys: Sequence[object]) -> np.ndarray:
    """Dense integer id per row, equal for equal keys."""
    index: dict[object, int] = {}
    return np.asarray([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def loo_group_mean(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean of the *other* rows of each row's group (NaN for a row alone in its group)."""
    total = np.bincount(groups, values)
    count = np.bincount(groups)
    n = count[groups]
    out = (total[groups] - values) / np.maximum(n - 1, 1)
    out[n < 2] = np.nan
    return out


def pooled_std_log(values: np.ndarray, groups: np.ndarray) -> float:
    """Pooled within-group standard deviation of ``log(values)`` (groups of 2+ rows)."""
    logs = np.log(values)
    count = np.bincount(groups)
    means = np.bincount(groups, logs) / np.maximum(count, 1)
    keep = count[groups] >= 2
    dof = int(keep.sum()) - int(np.count_nonzero(count >= 2))
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(np.sum((logs - means[groups])[keep] ** 2) / dof))


def _scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(pred)
    s = score(np.maximum(pred[ok], 1e-9), true[ok]).as_dict()
    return {k: float(v) for k in SCORE_KEYS if (v := s[k]) is not None}


def position_model_scores(
    features: np.ndarray, values: np.ndarray, seed: int = 0, train_share: float = 0.8
) -> dict[str, float]:
    """Held-out scores of gradient-boosted trees (the ``gbt`` baseline) on ``features``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(values))
    cut = int(train_share * len(values))
    train, test = order[:cut], order[cut:]
    model = make_baseline("gbt", seed).fit(features[train], values[train])
    return _scores(np.asarray(model.predict(features[test])), values[test])


@dataclass(frozen=True)
class ColumnCeiling:
    """Ceiling estimates of one device column (score dicts: spearman, mape, acc_5, acc_10)."""

    device: str
    rows: int
    integer_ms: bool
    rounding_share_10: float | None
    rounding_mape: float | None
    dead_rows: int
    dead_rows_below_1ms: int
    groups: int
    noise_std_log: float
    oracle_all: dict[str, float]
    oracle_live: dict[str, float]
    position_model: dict[str, float] | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def column_ceiling(
    archs: Sequence[str], values: np.ndarray, device: str, model: bool = True
) -> ColumnCeiling:
    """All ceiling estimates for one device (rows without a value are dropped)."""
    ok = np.flatnonzero(np.isfinite(values) & (values > 0))
    y = values[ok]
    kept = [archs[int(i)] for i in ok]
    ops = [edge_ops(a) for a in kept]
    dead = np.asarray([dead_cell(o) for o in ops])
    groups = group_ids([tuple(sorted(o)) for o in ops])
    live_groups = group_ids([tuple(sorted(o)) for o, d in zip(ops, dead, strict=True) if not d])
    integer = bool(np.all(y == np.round(y)))
    share, rmape = rounding_bound(y) if integer else (None, None)
    features = None
    if model:
        features = np.hstack([onehot_positions(kept), _op_counts(ops)])
    return ColumnCeiling(
        device=device,
        rows=len(y),
        integer_ms=integer,
        rounding_share_10=share,
        rounding_mape=rmape,
        dead_rows=int(dead.sum()),
        dead_rows_below_1ms=int(np.sum(dead & (y < 1.0))),
        groups=int(groups.max() + 1) if len(groups) else 0,
        noise_std_log=pooled_std_log(y[~dead], live_groups),
        oracle_all=_scores(loo_group_mean(y, groups), y),
        oracle_live=_scores(loo_group_mean(y[~dead], live_groups), y[~dead]),
        position_model=position_model_scores(features, y) if features is not None else None,
    )


def _op_counts(ops: Sequence[Sequence[str]]) -> np.ndarray:
    vocab = sorted({op for row in ops for op in row})
    return np.asarray([[row.count(v) for v in vocab] for row in ops], dtype=np.float64)


def run_ceiling(
    table: LatencyTable, devices: Sequence[str], model: bool = True
) -> dict[str, object]:
    """Ceiling estimates of every device in ``devices``; JSON-ready."""
    per_device = {
        d: column_ceiling(table.archs, table.column(d), d, model).as_dict() for d in devices
    }
    return {"space": "nasbench201", "devices": per_device}
