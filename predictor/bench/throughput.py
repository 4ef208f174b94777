"""Batch inference throughput: featurized graphs predicted per second for one device."""

from __future__ import annotations

import time

from torch_geometric.data import Data

from predictor.ensemble import Ensemble
from predictor.training.fit import FitSettings, fit_ensemble


def untrained_ensemble(graphs: list[Data], settings: FitSettings) -> Ensemble:
    """An ensemble of the given size trained for 0 epochs (speed does not depend on weights)."""
    import numpy as np

    quick = FitSettings(
        hidden=settings.hidden,
        depth=settings.depth,
        layer=settings.layer,
        epochs=0,
        members=settings.members,
    )
    targets = np.ones((len(graphs[:8]), 1))
    return fit_ensemble(graphs[:8], {"latency_ms": targets}, ("d",), quick)


def measure(ensemble: Ensemble, graphs: list[Data], batch_size: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` graphs per second of :meth:`Ensemble.log_predict`."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ensemble.log_predict(graphs, "latency_ms", batch_size=batch_size)
        best = min(best, time.perf_counter() - start)
    return len(graphs) / best
