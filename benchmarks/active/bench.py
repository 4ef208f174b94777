"""``perfloop bench active``: selection strategies at equal measurement budgets on one device.

For a device column of a latency table (the table's value is the "measurement"), a seed fixes
a held-out test set (never selectable) and the starting support (the reference architectures,
then random rows; the same for every strategy). Each strategy then adds at most ``step`` rows
per round (chosen as one batch, label-free), the model is refitted, and at every budget of
``setup.budgets`` it is scored on the held-out rows: curves of Spearman, acc_10 and MAPE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.active.acquire import STRATEGIES, select
from benchmarks.active.models import ActiveModel
from predictor.metrics import score

Curve = dict[int, dict[str, float]]


@dataclass(frozen=True)
class ActiveSetup:
    """Budgets, batch size, repetitions and strategies of the comparison."""

    budgets: tuple[int, ...] = (10, 15, 20, 30, 40, 60)
    step: int = 5
    seeds: int = 3
    test_fraction: float = 0.3
    strategies: tuple[str, ...] = STRATEGIES


def split_rows(
    y: np.ndarray, refs: Sequence[int], setup: ActiveSetup, seed: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(test rows, selectable pool, starting support) of one device and seed."""
    rng = np.random.default_rng(seed)
    measured = np.flatnonzero(np.isfinite(y) & (y > 0))
    test = rng.choice(measured, int(len(measured) * setup.test_fraction), replace=False)
    pool = np.setdiff1d(measured, test)
    in_pool = set(pool.tolist())
    support = [int(r) for r in refs if r in in_pool][: setup.budgets[0]]
    fill = rng.choice(np.setdiff1d(pool, support), setup.budgets[0] - len(support), False)
    return test, pool, support + [int(r) for r in fill]


def curve(
    y: np.ndarray,
    model: ActiveModel,
    emb: np.ndarray,
    log_macs: np.ndarray,
    refs: Sequence[int],
    strategy: str,
    setup: ActiveSetup,
    seed: int,
) -> Curve:
    """Budget -> Spearman / acc_10 / MAPE on held-out rows for one device, strategy and seed."""
    test, pool_all, support = split_rows(y, refs, setup, seed)
    rng = np.random.default_rng(10_000 + seed)
    out: Curve = {}
    top = max(setup.budgets)
    while True:
        sup = np.asarray(support)
        dist = model.predict(sup, y[sup], seed)
        if len(support) in setup.budgets:
            s = score(dist.value[test], y[test])
            out[len(support)] = {"spearman": s.spearman, "acc_10": s.acc_10, "mape": s.mape}
        if len(support) >= top:
            return out
        nxt = min(b for b in setup.budgets if b > len(support))
        k = min(nxt - len(support), setup.step) if setup.step > 0 else nxt - len(support)
        support += select(
            strategy,
            pool=np.setdiff1d(pool_all, sup),
            measured=sup,
            k=k,
            emb=emb,
            log_std=dist.std,
            log_macs=log_macs,
            rng=rng,
            log_mean=dist.mean,
        )


def mean_curves(runs: Sequence[Curve]) -> Curve:
    """Mean over runs of each budget's scores."""
    budgets = sorted(set.intersection(*(set(r) for r in runs)))
    return {b: {k: float(np.mean([r[b][k] for r in runs])) for k in runs[0][b]} for b in budgets}


def budget_to_reach(curve_: Curve, target: float, key: str) -> int | None:
    """The smallest budget whose ``key`` reaches ``target`` (None if none does)."""
    for budget in sorted(curve_):
        if curve_[budget][key] >= target:
            return budget
    return None
