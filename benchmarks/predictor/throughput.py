"""Batch inference throughput, featurization cost and single-request latency.

``perfloop bench throughput`` reports featurized graphs predicted per second
(:func:`measure`). ``python -m benchmarks.predictor.throughput`` adds, in the same run, the
featurization cost per graph and the median :meth:`EnsemblePredictor.predict` latency of one
graph on a device with a learned head and on a few-shot device (the numbers of
docs/BENCHMARKS.md, "Batch inference speed").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from predictor.api import DeviceContext, Sample
from predictor.ensemble import Ensemble, inference_workers, set_inference_workers
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR
from predictor.training.fit import FitSettings, fit_ensemble


def untrained_ensemble(graphs: list[Data], settings: FitSettings) -> Ensemble:
    """An ensemble of the given size trained for 0 epochs (speed does not depend on weights)."""
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


@torch.no_grad()
def _previous_path(ensemble: Ensemble, graphs: list[Data], batch_size: int) -> None:
    """The path before the fast collate: ``Batch.from_data_list``, edge index per layer."""
    for start in range(0, len(graphs), batch_size):
        batch = Batch.from_data_list(graphs[start : start + batch_size])
        for member in ensemble.members:
            member.eval()
            member(batch)["latency_ms"].double().numpy()


def compare(
    ensemble: Ensemble, graphs: list[Data], batch_size: int, repeats: int = 3
) -> tuple[float, float]:
    """Graphs per second of the previous path (batch 1,024) and of :meth:`Ensemble.log_predict`.

    Rounds alternate between the two so load changes on a shared machine hit both alike; each
    figure is the best of ``repeats``.
    """
    best_old = best_new = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _previous_path(ensemble, graphs, 1024)
        best_old = min(best_old, time.perf_counter() - start)
        start = time.perf_counter()
        ensemble.log_predict(graphs, "latency_ms", batch_size=batch_size)
        best_new = min(best_new, time.perf_counter() - start)
    return len(graphs) / best_old, len(graphs) / best_new


def featurize_ms(graphs: Sequence[GraphIR], repeats: int = 3) -> float:
    """Best-of-``repeats`` mean milliseconds per graph of :func:`featurize` (process CPU time).

    CPU time, not wall time, so other jobs on a loaded machine inflate it less.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for g in graphs:
            featurize(g)
        best = min(best, time.process_time() - start)
    return 1e3 * best / len(graphs)


def predict_ms(
    predictor: EnsemblePredictor, graph: GraphIR, device: DeviceContext, calls: int
) -> float:
    """Median wall milliseconds of ``predictor.predict([graph], device)`` over ``calls`` calls."""
    times: list[float] = []
    for _ in range(calls):
        start = time.perf_counter()
        predictor.predict([graph], device)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _graphs(space: str, count: int) -> list[GraphIR]:
    from predictor.data.tables import default_table_path, load_tables
    from predictor.spaces.table_graphs import graph_builder

    table = load_tables([default_table_path(space)])
    _, to_ir = graph_builder(space)
    return [to_ir(a) for a in table.archs[:count]]


def run(
    space: str, graphs_n: int, support_n: int, calls: int, batch_size: int
) -> dict[str, object]:
    """All figures of one run (see the module docstring)."""
    irs = _graphs(space, max(graphs_n, support_n + 1))
    feat_ms = featurize_ms(irs[:500])
    data = [featurize(g) for g in irs[:graphs_n]]
    ensemble = untrained_ensemble(data, FitSettings())
    previous, rate = compare(ensemble, data, batch_size)
    predictor = EnsemblePredictor(ensemble, {"version": "bench"})
    query = irs[support_n]
    support = tuple(Sample(g, "new", latency_ms=1.0 + g.macs / 1e8) for g in irs[:support_n])
    learned = predict_ms(predictor, query, DeviceContext("d"), calls)
    fewshot = predict_ms(predictor, query, DeviceContext("new", samples=support), calls)
    return {
        "space": space,
        "graphs": len(data),
        "threads": torch.get_num_threads(),
        "inference_workers": inference_workers(),
        "batch_size": batch_size,
        "graphs_per_s": rate,
        "graphs_per_s_previous_path": previous,
        "featurize_ms_per_graph": feat_ms,
        "predict_ms_learned_head": learned,
        "predict_ms_fewshot": fewshot,
        "fewshot_support": support_n,
        "calls": calls,
        "loadavg": os.getloadavg(),
    }


def main() -> None:
    """CLI: print the JSON of :func:`run`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--space", default="nasbench201")
    parser.add_argument("--graphs", type=int, default=4096)
    parser.add_argument("--support", type=int, default=300)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="inference threads (batches)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_inference_workers(args.workers)
    result = run(args.space, args.graphs, args.support, args.calls, args.batch_size)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
