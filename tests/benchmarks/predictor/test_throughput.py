from __future__ import annotations

import math

from benchmarks.predictor.throughput import (
    compare,
    featurize_ms,
    measure,
    predict_ms,
    untrained_ensemble,
)
from predictor.api import DeviceContext, Sample
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR
from predictor.training.fit import FitSettings


def test_bench_helpers_report_positive_figures(tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    ensemble = untrained_ensemble(data, FitSettings(hidden=8, depth=1, members=2))
    assert len(ensemble.members) == 2
    assert measure(ensemble, data, batch_size=3, repeats=1) > 0
    assert featurize_ms(tiny_graphs, repeats=1) >= 0
    predictor = EnsemblePredictor(ensemble, {"version": "bench"})
    support = tuple(Sample(g, "new", latency_ms=1.0 + i) for i, g in enumerate(tiny_graphs[:4]))
    for device in (DeviceContext("d"), DeviceContext("new", samples=support)):
        ms = predict_ms(predictor, tiny_graphs[-1], device, calls=3)
        assert ms > 0 and math.isfinite(ms)


def test_compare_reports_both_paths(tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    ensemble = untrained_ensemble(data, FitSettings(hidden=8, depth=1, members=2))
    previous, current = compare(ensemble, data, batch_size=3, repeats=1)
    assert previous > 0 and current > 0
