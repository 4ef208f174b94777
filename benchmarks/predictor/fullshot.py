"""Full-shot benchmark: train on N measured architectures of one device, test on the rest."""

from __future__ import annotations

import time

import numpy as np
from torch_geometric.data import Data

from benchmarks.baselines.models import BASELINES, make_baseline
from benchmarks.predictor.fewshot import METHODS, Features, _mean_scores, _score_dict, overall
from predictor.data.tables import LatencyTable
from predictor.ensemble import combine_members
from predictor.features.featurizer import GRAPH_NUMERIC
from predictor.training.fit import FitSettings, fit_ensemble


def device_fullshot(
    y: np.ndarray, feats: Features, device: str, n: int, settings: FitSettings, seed: int
) -> dict[str, dict[str, float | None]]:
    """Scores of every method for one device and one seed."""
    measured = np.flatnonzero(np.isfinite(y))
    rng = np.random.default_rng(2000 + seed)
    train = rng.choice(measured, min(n, len(measured) - 1), replace=False)
    test = np.setdiff1d(measured, train)
    ensemble = fit_ensemble(
        [feats.graphs[i] for i in train], {"latency_ms": y[train, None]}, (device,), settings
    )
    fit_log = ensemble.log_predict([feats.graphs[i] for i in train], "latency_ms")[:, :, 0]
    noise = float(np.sqrt(np.mean((fit_log.mean(0) - np.log(y[train])) ** 2)))
    test_log = ensemble.log_predict([feats.graphs[i] for i in test], "latency_ms")[:, :, 0]
    dist = combine_members(test_log, noise)
    out = {"perfloop": _score_dict(dist.value, y[test], dist.lo, dist.hi)}
    inputs = {
        "macs_linear": feats.macs,
        "lookup_table": feats.tabular[:, len(GRAPH_NUMERIC) :],
        "gbt": feats.tabular,
    }
    for name in BASELINES:
        model = make_baseline(name, seed).fit(inputs[name][train], y[train])  # type: ignore[arg-type]
        pred = np.maximum(model.predict(inputs[name][test]), 1e-9)
        out[name] = _score_dict(pred, y[test])
    return out


def run_fullshot(
    table: LatencyTable,
    graphs: list[Data],
    devices: tuple[str, ...],
    n: int,
    settings: FitSettings,
    seeds: int = 1,
) -> dict[str, object]:
    """Train per device on ``n`` rows and score all methods on the remaining rows."""
    start = time.perf_counter()
    feats = Features.build(table, graphs)
    per_device: dict[str, dict[str, dict[str, float | None]]] = {}
    for device in devices:
        runs = [
            device_fullshot(table.column(device), feats, device, n, settings, s)
            for s in range(seeds)
        ]
        per_device[device] = {m: _mean_scores([r[m] for r in runs]) for m in METHODS}
    return {
        "train_samples": n,
        "seeds": seeds,
        "devices": per_device,
        "overall": overall(per_device),
        "settings": settings.to_dict(),
        "wall_time_s": time.perf_counter() - start,
    }
