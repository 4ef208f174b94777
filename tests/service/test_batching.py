"""Concurrent predict calls are coalesced: callers queued behind a running call share one."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from predictor.api import DeviceContext, Metric, PredictionBatch
from predictor.ir.schema import GraphIR
from service.batching import PredictionBatcher
from service.core.errors import Unavailable
from tests.service.factories import tiny_graph
from tests.service.predictors import LinearMacsPredictor

LATENCY: tuple[Metric, ...] = ("latency_ms",)


class GatedPredictor(LinearMacsPredictor):
    """Records each call's graph count; the first call blocks until released."""

    def __init__(self) -> None:
        super().__init__("gated", 0.01)
        self.calls: list[int] = []
        self.metrics: list[tuple[Metric, ...]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def predict(
        self,
        graphs: Sequence[GraphIR],
        device: DeviceContext,
        metrics: Sequence[Metric] = ("latency_ms",),
    ) -> PredictionBatch:
        self.calls.append(len(graphs))
        self.metrics.append(tuple(metrics))
        if len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(timeout=60)
        if self.fail:
            raise RuntimeError("model exploded")
        return super().predict(graphs, device, metrics)


def _wait_queued(batcher: PredictionBatcher, n: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        groups = list(batcher._groups.values())
        if groups and len(groups[0].pending) == n:
            return
        time.sleep(0.005)
    raise AssertionError(f"{n} callers never queued")


def _run_concurrently(fail: bool) -> tuple[GatedPredictor, list[object]]:
    predictor, batcher = GatedPredictor(), PredictionBatcher()
    predictor.fail = fail
    context = DeviceContext("dev1")
    graphs = [[tiny_graph(channels=c)] * (c % 3 + 1) for c in range(2, 10)]
    results: list[object] = [None] * len(graphs)

    def call(i: int) -> None:
        try:
            results[i] = batcher.predict(predictor, graphs[i], context, ("latency_ms",))
        except RuntimeError as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(graphs))]
    threads[0].start()
    assert predictor.entered.wait(timeout=60)
    for t in threads[1:]:
        t.start()
    _wait_queued(batcher, len(graphs) - 1)
    predictor.release.set()
    for t in threads:
        t.join(timeout=60)
    expected = [len(g) for g in graphs]
    assert predictor.calls == [expected[0], sum(expected[1:])]  # 8 callers, 2 predictor calls
    return predictor, results


def test_queued_callers_share_one_call_and_get_their_own_results() -> None:
    predictor, results = _run_concurrently(fail=False)
    context = DeviceContext("dev1")
    for c, result in zip(range(2, 10), results, strict=True):
        assert isinstance(result, PredictionBatch)
        alone = predictor.predict([tiny_graph(channels=c)] * (c % 3 + 1), context)
        assert result.estimates == alone.estimates and result.version == "gated"


def test_an_error_reaches_every_caller_of_the_call() -> None:
    _, results = _run_concurrently(fail=True)
    assert all(isinstance(r, RuntimeError) for r in results)


def test_lone_call_runs_at_once() -> None:
    batcher = PredictionBatcher()
    predictor = LinearMacsPredictor("v", 0.01)
    out = batcher.predict(predictor, [tiny_graph()], DeviceContext("d"), ("latency_ms",))
    assert len(out.estimates) == 1 and batcher._groups == {}


def test_callers_asking_for_different_metrics_share_one_call() -> None:
    predictor, batcher = GatedPredictor(), PredictionBatcher()
    context, graph = DeviceContext("dev1"), tiny_graph(channels=6)
    asks: list[tuple[Metric, ...]] = [
        ("latency_ms",),
        ("peak_memory_bytes", "latency_ms"),
        ("energy_mj",),
        ("latency_ms",),
    ]
    results: list[PredictionBatch | None] = [None] * len(asks)

    def call(i: int) -> None:
        results[i] = batcher.predict(predictor, [graph], context, asks[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(asks))]
    threads[0].start()
    assert predictor.entered.wait(timeout=60)
    for t in threads[1:]:
        t.start()
    _wait_queued(batcher, len(asks) - 1)
    predictor.release.set()
    for t in threads:
        t.join(timeout=60)
    assert predictor.calls == [1, 3]
    assert predictor.metrics[1] == ("latency_ms", "energy_mj", "peak_memory_bytes")
    for ask, result in zip(asks, results, strict=True):
        assert result is not None
        assert list(result.estimates[0]) == list(ask)  # exactly its metrics, in its order
        assert result.estimates == predictor.predict([graph], context, ask).estimates


def test_a_caller_queued_too_long_gets_503_and_the_queue_goes_on() -> None:
    predictor, batcher = GatedPredictor(), PredictionBatcher(max_wait_s=0.2)
    context = DeviceContext("dev1")
    first: list[PredictionBatch] = []
    leader = threading.Thread(
        target=lambda: first.append(batcher.predict(predictor, [tiny_graph()], context, LATENCY))
    )
    leader.start()
    assert predictor.entered.wait(timeout=60)
    with pytest.raises(Unavailable) as info:  # the predictor is stuck in the first call
        batcher.predict(predictor, [tiny_graph()], context, LATENCY)
    assert info.value.code == "prediction_queue_stalled"
    assert info.value.headers == {"Retry-After": "5"}  # type: ignore[attr-defined]
    predictor.release.set()
    leader.join(timeout=60)
    assert len(first) == 1 and predictor.calls == [1]  # the caller that gave up was not run
    again = batcher.predict(predictor, [tiny_graph()], context, LATENCY)
    assert len(again.estimates) == 1 and batcher._groups == {}
