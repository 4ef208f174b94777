from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from predictor.api import Sample, load_predictor, train_predictor
from predictor.ensemble import inference_workers, set_inference_workers
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR


@pytest.fixture(name="sequential_after")
def sequential_after_fixture() -> Iterator[None]:
    yield
    set_inference_workers(1)


def test_parallel_batches_give_the_sequential_result(
    tmp_path: Path, tiny_graphs: list[GraphIR], sequential_after: None
) -> None:
    samples = [Sample(g, "cpu", latency_ms=1.0 + g.macs / 1e5) for g in tiny_graphs]
    predictor = load_predictor(
        train_predictor(samples, tmp_path / "v", quick=True, min_device_samples=4)
    )
    assert isinstance(predictor, EnsemblePredictor)
    data = [featurize(g) for g in tiny_graphs] * 5  # 40 graphs: 14 batches of 3
    sequential = predictor.ensemble.log_predict(data, "latency_ms", batch_size=3)
    set_inference_workers(3)
    assert inference_workers() == 3
    parallel = predictor.ensemble.log_predict(data, "latency_ms", batch_size=3)
    assert np.array_equal(sequential, parallel)
    assert not np.array_equal(parallel[:, 0], parallel[:, 1])  # distinct graphs, distinct rows


def test_inference_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        set_inference_workers(0)
