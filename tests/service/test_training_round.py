from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from predictor.api import Sample, load_predictor
from service.core.config import Settings
from service.crud import predictors as predictor_crud
from service.models import Device
from service.state import AppState
from service.training_round import (
    RetrainConfig,
    better,
    held_out_count,
    run_round,
    score_per_device,
    time_split,
)
from tests.service.factories import make_device, make_measurement, make_model, tiny_graph
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
    assert scores["a"]["coverage_90"] == 1.0
    # without context the predictor's default scale (1.0 ms/MMAC, 50x off) is used
    blind = score_per_device(LinearMacsPredictor("v", 1.0), [], held, {"a": "cpu"})
    assert float(blind["a"]["mape"] or 0) > 10
    assert blind["a"]["coverage_90"] == 0.0  # its +-50 % interval misses a 50x error


def test_better_compares_mean_mape_on_common_devices() -> None:
    good = {"a": {"mape": 0.1}, "b": {"mape": 0.2}}
    bad = {"a": {"mape": 0.3}, "b": {"mape": 0.1}, "c": {"mape": 0.0}}
    assert better(good, None)  # type: ignore[arg-type]
    assert not better({}, None)
    assert better(good, bad)  # type: ignore[arg-type]
    assert not better(bad, good)  # type: ignore[arg-type]


@pytest.fixture
def state(settings: Settings) -> Iterator[AppState]:
    app_state = AppState.build(settings, load_predictor)  # real artifacts, real training
    yield app_state
    app_state.db.dispose()


def _measure(state: AppState, count: int) -> None:
    with state.db.session(write=True) as session:
        if session.get(Device, "dev1") is None:
            make_device(session, "dev1")
        for _ in range(count):
            model = make_model(session)
            make_measurement(session, model.id, latency_ms=0.02 * model.macs / 1e6 + 0.1)


def test_rounds_warm_start_from_the_active_version(state: AppState) -> None:
    config = RetrainConfig(min_device_samples=6)
    _measure(state, 10)
    first = run_round(state, config, {})
    assert first.promoted
    _measure(state, 4)
    second = run_round(state, config, {})
    cold = run_round(state, config, {"warm_start": False})
    with state.db.session() as session:
        rows = {v.version: v for v in predictor_crud.list_versions(session)}
    assert rows[first.version].metrics["warm_start_from"] is None  # nothing to start from
    assert rows[second.version].metrics["warm_start_from"] == first.version
    assert rows[cold.version].metrics["warm_start_from"] is None
    meta = json.loads((Path(rows[second.version].artifact_path) / "metadata.json").read_text())
    assert meta["metrics"]["warm_start_from"] == rows[first.version].artifact_path
