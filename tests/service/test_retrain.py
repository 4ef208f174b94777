from __future__ import annotations

from predictor.api import Sample
from service.retrain import better, held_out_count, score_per_device, time_split
from tests.service.factories import tiny_graph
from tests.service.predictors import LinearMacsPredictor


def _samples(device: str, n: int, ms_per_mmac: float = 0.02) -> list[Sample]:
    out = []
    for i in range(n):
        g = tiny_graph(channels=4 + i)
        out.append(Sample(graph=g, device=device, latency_ms=ms_per_mmac * g.macs / 1e6))
    return out


def test_held_out_count() -> None:
    assert held_out_count(3, 0.2, 2) == 0
    assert held_out_count(4, 0.2, 2) == 2
    assert held_out_count(20, 0.2, 2) == 4


def test_time_split_holds_out_the_newest_of_each_device() -> None:
    a, b = _samples("a", 10), _samples("b", 3)
    interleaved = [s for pair in zip(a, b + [None] * 7, strict=True) for s in pair if s]
    train, held = time_split(interleaved, 0.2, 2)
    assert held == a[8:]  # b has too few rows to hold any out
    assert [s for s in train if s.device == "a"] == a[:8]
    assert [s for s in train if s.device == "b"] == b


def test_score_per_device_uses_training_rows_as_context() -> None:
    rows = _samples("a", 10)
    train, held = time_split(rows, 0.2, 2)
    scores = score_per_device(LinearMacsPredictor("v", 1.0), train, held, {"a": "cpu"})
    assert scores["a"]["count"] == 2
    assert scores["a"]["mape"] is not None and float(scores["a"]["mape"]) < 1e-9
    # without context the predictor's default scale (1.0 ms/MMAC, 50x off) is used
    blind = score_per_device(LinearMacsPredictor("v", 1.0), [], held, {"a": "cpu"})
    assert float(blind["a"]["mape"] or 0) > 10


def test_better_compares_mean_mape_on_common_devices() -> None:
    good = {"a": {"mape": 0.1}, "b": {"mape": 0.2}}
    bad = {"a": {"mape": 0.3}, "b": {"mape": 0.1}, "c": {"mape": 0.0}}
    assert better(good, None)  # type: ignore[arg-type]
    assert not better({}, None)
    assert better(good, bad)  # type: ignore[arg-type]
    assert not better(bad, good)  # type: ignore[arg-type]
