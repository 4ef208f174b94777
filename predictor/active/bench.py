"""``perfloop bench active``: uncertainty-driven vs random selection at equal measurement budgets.

For each unseen test device of a latency table, both strategies start from the reference
architectures, add ``step`` measurements per round (the table's value is the "measurement") and
re-adapt the few-shot head of a meta-trained ensemble (``predictor.fewshot.adapt_and_predict``,
what serving does for a device without a learned head). After each round both are scored on the
same held-out rows (never selectable), giving curves of Spearman and acc_10 against the budget.

Uncertain selection: greedy by predicted log-std times (1 + distance in log MACs to the nearest
measured or already-picked row), so one round does not crowd a single corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from predictor.fewshot import FewShotConfig, adapt_and_predict
from predictor.metrics import score

STRATEGIES: tuple[str, ...] = ("uncertain", "random")


@dataclass(frozen=True)
class ActiveSetup:
    """Budgets and repetitions of the comparison."""

    budgets: tuple[int, ...] = (10, 15, 20, 30, 40, 60)
    step: int = 5
    seeds: int = 3
    test_fraction: float = 0.3
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)


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


def curve(
    y: np.ndarray,
    member_log: np.ndarray,
    basis: np.ndarray,
    log_macs: np.ndarray,
    refs: Sequence[int],
    strategy: str,
    setup: ActiveSetup,
    seed: int,
) -> dict[int, dict[str, float]]:
    """Budget -> Spearman / acc_10 / MAPE on held-out rows for one device, strategy and seed."""
    rng = np.random.default_rng(seed)
    measured_rows = np.flatnonzero(np.isfinite(y) & (y > 0))
    test = rng.choice(measured_rows, int(len(measured_rows) * setup.test_fraction), replace=False)
    pool_all = np.setdiff1d(measured_rows, test)
    support = [r for r in refs if r in set(pool_all.tolist())][: setup.budgets[0]]
    fill = rng.choice(np.setdiff1d(pool_all, support), setup.budgets[0] - len(support), False)
    support += [int(r) for r in fill]
    out: dict[int, dict[str, float]] = {}
    while True:
        sup = np.asarray(support)
        dist = adapt_and_predict(member_log, basis, sup, y[sup], setup.fewshot, log_macs)
        if len(support) in setup.budgets:
            s = score(dist.value[test], y[test])
            out[len(support)] = {"spearman": s.spearman, "acc_10": s.acc_10, "mape": s.mape}
        if len(support) >= max(setup.budgets):
            return out
        pool = np.setdiff1d(pool_all, sup)
        if strategy == "random":
            new = [int(r) for r in rng.choice(pool, min(setup.step, len(pool)), replace=False)]
        else:
            new = pick_uncertain(dist.std, log_macs, pool, sup, setup.step)
        support += new


def mean_curves(runs: list[dict[int, dict[str, float]]]) -> dict[int, dict[str, float]]:
    """Mean over runs of each budget's scores."""
    budgets = sorted(set.intersection(*(set(r) for r in runs)))
    return {b: {k: float(np.mean([r[b][k] for r in runs])) for k in runs[0][b]} for b in budgets}


def budget_to_reach(curve_: dict[int, dict[str, float]], target: float, key: str) -> int | None:
    """The smallest budget whose ``key`` reaches ``target`` (None if none does)."""
    for budget in sorted(curve_):
        if curve_[budget][key] >= target:
            return budget
    return None
