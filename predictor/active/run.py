"""Run the active-learning comparison on a latency table (meta-train once, then curves)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from torch_geometric.data import Data

from predictor.active.bench import STRATEGIES, ActiveSetup, budget_to_reach, curve, mean_curves
from predictor.bench.fewshot import Features, FewShotBench, meta_train
from predictor.data.tables import LatencyTable


def run_active(
    table: LatencyTable,
    graphs: list[Data],
    bench: FewShotBench,
    setup: ActiveSetup,
    refs: Sequence[int] = (),
) -> dict[str, Any]:
    """Meta-train on ``bench.train_devices``; curves of both strategies on each test device."""
    start = time.perf_counter()
    feats = Features.build(table, graphs)
    ensemble = meta_train(table, feats, bench)
    member_log = ensemble.log_predict(feats.graphs, "latency_ms")
    per_device: dict[str, dict[str, dict[int, dict[str, float]]]] = {}
    for device in bench.test_devices:
        y = table.column(device)
        per_device[device] = {
            strategy: mean_curves(
                [
                    curve(y, member_log, feats.basis, feats.log_macs, refs, strategy, setup, s)
                    for s in range(setup.seeds)
                ]
            )
            for strategy in STRATEGIES
        }
    overall = {
        strategy: mean_curves([per_device[d][strategy] for d in per_device])
        for strategy in STRATEGIES
    }
    return {
        "space": bench.space,
        "train_devices": list(bench.train_devices),
        "test_devices": list(bench.test_devices),
        "budgets": list(setup.budgets),
        "step": setup.step,
        "seeds": setup.seeds,
        "devices": per_device,
        "overall": overall,
        "savings": savings(overall),
        "wall_time_s": time.perf_counter() - start,
    }


def savings(overall: dict[str, dict[int, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """For each metric: random's best score and the budgets each strategy needs to reach it."""
    out: dict[str, dict[str, Any]] = {}
    for key in ("spearman", "acc_10"):
        target = max(v[key] for v in overall["random"].values())
        out[key] = {
            "random_best": target,
            "random_budget": budget_to_reach(overall["random"], target, key),
            "uncertain_budget": budget_to_reach(overall["uncertain"], target, key),
        }
    return out
