"""Few-shot benchmark: meta-train on some devices, adapt to each test device from k samples.

For each test device and seed, ``samples`` measured architectures (the space's reference
architectures first, then random ones) are all the target-device data any method may use; every
other architecture with a value on that device is the test set. perfloop and every baseline are
scored on exactly the same support and test rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch_geometric.data import Data

from benchmarks.baselines.arch_features import onehot_positions
from benchmarks.baselines.models import BASELINES, make_baseline
from benchmarks.predictor.memo import member_log_key, memo_member_log
from predictor.data.tables import LatencyTable
from predictor.ensemble import Ensemble
from predictor.features.featurizer import GRAPH_NUMERIC
from predictor.fewshot import FewShotConfig, adapt_and_predict
from predictor.metrics import score
from predictor.training.fit import FitSettings, fit_ensemble

logger = logging.getLogger(__name__)
METHODS: tuple[str, ...] = ("perfloop", *BASELINES)
SCORE_KEYS: tuple[str, ...] = (
    "spearman",
    "kendall",
    "mape",
    "acc_5",
    "acc_10",
    "coverage_90",
    "width_90",
)
#: Share of the support budget taken from the reference archs by default (others: all of it).
#: The 10 MAC-quantile NB201 references have no ``none``/``skip_connect`` edge, so a support of
#: references only cannot tell a fixed cost from per-op costs; half of them + random archs won
#: on the NB201 validation devices (mean Spearman 0.949 -> 0.978) but lost on FBNet's
#: (0.904 -> 0.890), whose references cover every choice (docs/BENCHMARKS.md).
REFERENCE_SHARE: dict[str, float] = {"nasbench201": 0.5}


@dataclass(frozen=True)
class FewShotBench:
    """What to run."""

    space: str
    train_devices: tuple[str, ...]
    test_devices: tuple[str, ...]
    samples: int = 10
    seeds: int = 3
    train_samples: int = 900
    settings: FitSettings = field(default_factory=FitSettings)
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)
    #: Reuse (and store) the meta-trained predictions (:mod:`benchmarks.predictor.memo`).
    memo: bool = False
    #: Most reference archs in a support set (None: the space's :data:`REFERENCE_SHARE` of
    #: ``samples``); the rest are random.
    max_refs: int | None = None

    @property
    def refs_used(self) -> int:
        """How many reference archs a support set takes (at most)."""
        if self.max_refs is not None:
            return min(self.max_refs, self.samples)
        return int(self.samples * REFERENCE_SHARE.get(self.space, 1.0))


@dataclass(frozen=True)
class Features:
    """Per-architecture inputs of perfloop and the baselines (rows = table rows)."""

    graphs: list[Data]
    basis: np.ndarray
    macs: np.ndarray
    tabular: np.ndarray
    #: The unfiltered per-op-type basis, for the novelty widening (:mod:`predictor.novelty`).
    full_basis: np.ndarray | None = None

    @property
    def log_macs(self) -> np.ndarray:
        """``[N]`` natural log of total MACs (at least 1)."""
        out: np.ndarray = np.log(np.maximum(self.macs[:, 0], 1.0))
        return out

    @staticmethod
    def build(table: LatencyTable, graphs: list[Data]) -> Features:
        """Stack the graph-level arrays and the (position, choice) one-hot."""
        basis = torch.cat([g.basis for g in graphs]).double().numpy()
        static = torch.cat([g.u_raw for g in graphs]).double().numpy()
        macs = np.expm1(static[:, [GRAPH_NUMERIC.index("macs")]])
        tabular = np.hstack([static, onehot_positions(table.archs)])
        return Features(graphs, basis[:, basis.std(0) > 0], macs, tabular, basis)


def meta_train_targets(
    table: LatencyTable, devices: Sequence[str], per_device: int, seed: int = 0
) -> np.ndarray:
    """``[rows, devices]`` latencies on one shared random set of ``per_device`` rows.

    All meta-train devices use the same architectures (as in HELP), so each graph is encoded
    once per step for every device; rows outside the set are NaN.
    """
    values = table.select(devices)
    candidates = np.flatnonzero(np.isfinite(values).any(axis=1))
    rng = np.random.default_rng(seed)
    pick = rng.choice(candidates, min(per_device, len(candidates)), replace=False)
    out = np.full(values.shape, np.nan)
    out[pick] = values[pick]
    return out


def meta_train(table: LatencyTable, feats: Features, bench: FewShotBench) -> Ensemble:
    """Fit the ensemble on the meta-train devices' sampled rows."""
    targets = meta_train_targets(table, bench.train_devices, bench.train_samples)
    rows = np.flatnonzero(np.isfinite(targets).any(axis=1))
    return fit_ensemble(
        [feats.graphs[i] for i in rows],
        {"latency_ms": targets[rows]},
        bench.train_devices,
        bench.settings,
    )


def spread_subset(refs: Sequence[int], n: int) -> list[int]:
    """``n`` of ``refs`` evenly spaced over their order (both ends kept; all when ``n >= len``)."""
    if n >= len(refs):
        return list(refs)
    if n <= 0:
        return []
    picks = np.unique(np.round(np.linspace(0, len(refs) - 1, n)).astype(int))
    return [refs[i] for i in picks]


def support_rows(measured: np.ndarray, refs: Sequence[int], k: int, seed: int) -> np.ndarray:
    """``k`` support rows: measured reference rows first, then random measured rows."""
    chosen = [r for r in refs if r in set(measured.tolist())][:k]
    rest = np.setdiff1d(measured, chosen)
    rng = np.random.default_rng(1000 + seed)
    extra = rng.choice(rest, max(k - len(chosen), 0), replace=False)
    return np.concatenate([np.asarray(chosen, dtype=np.int64), extra.astype(np.int64)])


def _score_dict(
    pred: np.ndarray, true: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> dict[str, float | None]:
    s = score(pred, true, lo, hi).as_dict()
    return {k: s[k] for k in SCORE_KEYS}


def device_scores(
    y: np.ndarray,
    member_log: np.ndarray,
    feats: Features,
    refs: Sequence[int],
    bench: FewShotBench,
) -> dict[str, dict[str, float | None]]:
    """Mean over seeds of every method's scores on one device."""
    measured = np.flatnonzero(np.isfinite(y))
    runs: dict[str, list[dict[str, float | None]]] = {m: [] for m in METHODS}
    inputs = {
        "macs_linear": feats.macs,
        "lookup_table": feats.tabular[:, len(GRAPH_NUMERIC) :],
        "gbt": feats.tabular,
    }
    for seed in range(bench.seeds):
        sup = support_rows(measured, spread_subset(refs, bench.refs_used), bench.samples, seed)
        test = np.setdiff1d(measured, sup)
        dist = adapt_and_predict(
            member_log, feats.basis, sup, y[sup], bench.fewshot, feats.log_macs, feats.full_basis
        )
        runs["perfloop"].append(
            _score_dict(dist.value[test], y[test], dist.lo[test], dist.hi[test])
        )
        for name in BASELINES:
            model = make_baseline(name, seed).fit(inputs[name][sup], y[sup])  # type: ignore[arg-type]
            runs[name].append(
                _score_dict(np.maximum(model.predict(inputs[name][test]), 1e-9), y[test])
            )
    return {m: _mean_scores(r) for m, r in runs.items()}


def _mean_scores(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in SCORE_KEYS:
        vals = [r[key] for r in runs if r[key] is not None]
        out[key] = float(np.mean(vals)) if vals else None  # type: ignore[arg-type]
    return out


def overall(
    per_device: dict[str, dict[str, dict[str, float | None]]],
) -> dict[str, dict[str, float | None]]:
    """Mean over devices of each method's scores."""
    return {m: _mean_scores([d[m] for d in per_device.values()]) for m in METHODS}


def meta_member_log(
    table: LatencyTable, feats: Features, bench: FewShotBench
) -> tuple[np.ndarray, bool]:
    """``[members, archs, train devices]`` log predictions of the meta-trained ensemble.

    Returns:
        The predictions and whether they came from the memo (no training this run).
    """

    def compute() -> np.ndarray:
        ensemble = meta_train(table, feats, bench)
        return ensemble.log_predict(feats.graphs, "latency_ms")

    if not bench.memo:
        return compute(), False
    targets = meta_train_targets(table, bench.train_devices, bench.train_samples)
    settings = bench.settings.to_dict()
    key = member_log_key(bench.space, table.archs, bench.train_devices, targets, settings)
    return memo_member_log(key, compute)


def run_fewshot(
    table: LatencyTable, graphs: list[Data], bench: FewShotBench, refs: Sequence[int] = ()
) -> dict[str, object]:
    """Meta-train, then score every method on every test device; JSON-ready result."""
    start = time.perf_counter()
    feats = Features.build(table, graphs)
    member_log, memo_hit = meta_member_log(table, feats, bench)
    train_s = time.perf_counter() - start
    per_device = {
        d: device_scores(table.column(d), member_log, feats, refs, bench)
        for d in bench.test_devices
    }
    return {
        "space": bench.space,
        "samples": bench.samples,
        "seeds": bench.seeds,
        "train_devices": list(bench.train_devices),
        "test_devices": list(bench.test_devices),
        "train_samples_per_device": bench.train_samples,
        "settings": bench.settings.to_dict(),
        "fewshot": bench.fewshot.to_dict(),
        "refs_used": bench.refs_used,
        "devices": per_device,
        "overall": overall(per_device),
        "train_time_s": train_s,
        "meta_train_memo_hit": memo_hit,
        "wall_time_s": time.perf_counter() - start,
    }
