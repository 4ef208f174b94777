"""Summaries of active-learning curves: medians over seeds and budgets-to-reach random.

``runs[device][strategy]`` holds one curve per seed (seed ``i`` uses the same held-out rows and
starting support for every strategy). For each seed the curves are averaged over devices; the
summary reports the median over seeds and the spread (min, max). Budget-to-reach: for every
budget ``b`` of random selection, the smallest budget at which a strategy's median curve
reaches random's median at ``b``, and the ratio of the two (< 1: fewer measurements).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from benchmarks.active.bench import Curve, budget_to_reach, mean_curves

KEYS: tuple[str, ...] = ("spearman", "acc_10", "mape")
Runs = Mapping[str, Mapping[str, Sequence[Curve]]]


def seed_curves(runs: Runs, strategy: str) -> list[Curve]:
    """Per seed, the device-mean curve of ``strategy``."""
    devices = list(runs)
    seeds = len(runs[devices[0]][strategy])
    return [mean_curves([runs[d][strategy][s] for d in devices]) for s in range(seeds)]


def median_spread(curves: Sequence[Curve]) -> dict[int, dict[str, dict[str, float]]]:
    """Budget -> key -> {median, min, max} over ``curves``."""
    budgets = sorted(set.intersection(*(set(c) for c in curves)))
    out: dict[int, dict[str, dict[str, float]]] = {}
    for b in budgets:
        out[b] = {}
        for key in curves[0][b]:
            vals = np.asarray([c[b][key] for c in curves])
            out[b][key] = {
                "median": float(np.median(vals)),
                "min": float(vals.min()),
                "max": float(vals.max()),
            }
    return out


def medians(spread: Mapping[int, Mapping[str, Mapping[str, float]]]) -> Curve:
    """The median curve of a :func:`median_spread` result."""
    return {b: {k: v["median"] for k, v in row.items()} for b, row in spread.items()}


def reach_table(median: Mapping[str, Curve], key: str) -> dict[str, list[dict[str, Any]]]:
    """Strategy -> per random budget: random's score, the budget reaching it and the ratio."""
    base = median["random"]
    out: dict[str, list[dict[str, Any]]] = {}
    for strategy, c in median.items():
        rows = []
        for b in sorted(base):
            reach = budget_to_reach(c, base[b][key], key)
            ratio = None if reach is None else reach / b
            rows.append(
                {"random_budget": b, "target": base[b][key], "budget": reach, "ratio": ratio}
            )
        out[strategy] = rows
    return out


def paired_wins(mine: Sequence[Curve], base: Sequence[Curve]) -> dict[int, dict[str, int]]:
    """Budget -> key -> seeds on which ``mine`` beats ``base`` (same seed: same split and start).

    Lower is better for MAPE, higher for the others.
    """
    out: dict[int, dict[str, int]] = {}
    for b in sorted(set.intersection(*(set(c) for c in [*mine, *base]))):
        out[b] = {}
        for key in mine[0][b]:
            sign = -1.0 if key == "mape" else 1.0
            out[b][key] = sum(
                sign * (m[b][key] - r[b][key]) > 0 for m, r in zip(mine, base, strict=True)
            )
    return out


def summarize(runs: Runs, strategies: Sequence[str]) -> dict[str, Any]:
    """Medians, spreads, paired wins and budgets-to-reach (overall and per device at the top)."""
    per_seed = {s: seed_curves(runs, s) for s in strategies}
    spread = {s: median_spread(per_seed[s]) for s in strategies}
    median = {s: medians(spread[s]) for s in strategies}
    per_device = {d: {s: mean_curves(list(runs[d][s])) for s in strategies} for d in runs}
    top = max(median["random"])
    device_reach = {
        d: {
            key: {s: budget_to_reach(c[s], c["random"][top][key], key) for s in strategies}
            for key in ("spearman", "acc_10")
        }
        for d, c in per_device.items()
    }
    return {
        "overall": spread,
        "wins_over_random": {s: paired_wins(per_seed[s], per_seed["random"]) for s in strategies},
        "reach": {key: reach_table(median, key) for key in ("spearman", "acc_10")},
        "devices": per_device,
        "device_reach_at_top": device_reach,
    }
