"""Run the active-learning comparison on a latency table in one regime.

Regimes (what the model knows before the device's first measurement):

* ``published``: the ensemble is meta-trained on the published split's train devices, the test
  devices get the few-shot head (the setting of the first benchmark; the head saturates early).
* ``gpu-meta``: meta-trained on the GPU devices of the split only (1080ti at three batch sizes),
  tested on the non-GPU test devices: a device family the meta-training does not cover.
* ``scratch``: nothing is meta-trained; a bagged boosted-tree model is trained from scratch on
  the device's selected measurements (the brand-new-device, full-shot regime).
* ``stacked``: the published split's meta-trained ensemble and few-shot head, plus bagged trees
  on the head's residuals (features: the static ones and the members' known-device
  predictions): the full-shot regime of a device that perfloop's model already covers, built to
  test whether more measurements help once the head saturates (on NB201 they did not: the
  residual is mostly measurement noise; docs/BENCHMARKS.md, "Active learning").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
from torch_geometric.data import Data

from benchmarks.active.bench import ActiveSetup, Curve, curve
from benchmarks.active.models import BaggedTrees, FewShotHead, HeadPlusTrees
from benchmarks.active.summary import summarize
from benchmarks.predictor.fewshot import Features, FewShotBench, meta_train
from predictor.data.tables import LatencyTable

logger = logging.getLogger(__name__)
Regime = Literal["published", "gpu-meta", "scratch", "stacked"]
REGIMES: tuple[str, ...] = get_args(Regime)
GPU_PREFIXES: tuple[str, ...] = ("1080ti", "2080ti", "titan")


def is_gpu(device: str) -> bool:
    """Whether a table column is one of the GPUs."""
    return device.startswith(GPU_PREFIXES)


def regime_devices(
    regime: str, train: Sequence[str], test: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(meta-train devices, test devices) of ``regime`` from a split's lists.

    Raises:
        ValueError: unknown regime.
    """
    if regime in ("published", "stacked"):
        return tuple(train), tuple(test)
    if regime == "gpu-meta":
        return tuple(d for d in train if is_gpu(d)), tuple(d for d in test if not is_gpu(d))
    if regime == "scratch":
        return (), tuple(test)
    raise ValueError(f"unknown regime {regime!r}; choose one of {', '.join(REGIMES)}")


def build_model(
    regime: str, table: LatencyTable, feats: Features, bench: FewShotBench
) -> FewShotHead | BaggedTrees | HeadPlusTrees:
    """The model every strategy refits: a few-shot head (meta-trained), bagged trees, or both."""
    if regime == "scratch":
        return BaggedTrees(feats.tabular)
    ensemble = meta_train(table, feats, bench)
    member_log = ensemble.log_predict(feats.graphs, "latency_ms")
    head = FewShotHead(member_log, feats.basis, feats.log_macs, bench.fewshot)
    if regime == "stacked":
        return HeadPlusTrees(head, BaggedTrees(np.hstack([feats.tabular, member_log.mean(0)])))
    return head


def run_active(
    table: LatencyTable,
    graphs: list[Data],
    regime: str,
    bench: FewShotBench,
    setup: ActiveSetup,
    refs: Sequence[int] = (),
) -> dict[str, Any]:
    """Build the regime's model, then curves of every strategy and seed on each test device."""
    start = time.perf_counter()
    feats = Features.build(table, graphs)
    model = build_model(regime, table, feats, bench)
    emb = model.embedding()
    runs: dict[str, dict[str, list[Curve]]] = {}
    for device in bench.test_devices:
        y = table.column(device)
        runs[device] = {
            strategy: [
                curve(y, model, emb, feats.log_macs, refs, strategy, setup, seed)
                for seed in range(setup.seeds)
            ]
            for strategy in setup.strategies
        }
        logger.info("%s done after %.0f s", device, time.perf_counter() - start)
    return {
        "space": bench.space,
        "regime": regime,
        "rows": len(table.archs),
        "train_devices": list(bench.train_devices),
        "test_devices": list(bench.test_devices),
        "budgets": list(setup.budgets),
        "step": setup.step,
        "seeds": setup.seeds,
        "strategies": list(setup.strategies),
        "runs": runs,
        "summary": summarize(runs, setup.strategies),
        "wall_time_s": time.perf_counter() - start,
    }


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """Random's score at its largest budget and the budget each strategy needs to reach it."""
    out: dict[str, Any] = {}
    for key, table in result["summary"]["reach"].items():
        last = {s: rows[-1] for s, rows in table.items()}
        out[key] = {
            "random_budget": last["random"]["random_budget"],
            "random_median": last["random"]["target"],
            "budget_to_reach": {s: r["budget"] for s, r in last.items()},
            "ratio": {s: r["ratio"] for s, r in last.items()},
        }
    return out
