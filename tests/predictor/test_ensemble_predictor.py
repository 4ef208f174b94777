from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from predictor.api import DeviceContext, Sample, load_predictor, train_predictor
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import featurize
from predictor.fewshot import adapt_and_predict
from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR, TensorSpec


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, tiny_graphs: list[GraphIR]) -> Path:
    samples = [
        Sample(g, dev, latency_ms=scale * (1.0 + g.macs / 1e5) + 0.1 * i)
        for i, g in enumerate(tiny_graphs)
        for dev, scale in (("cpu_a", 1.0), ("gpu_b", 0.3))
    ]
    path = tmp_path_factory.mktemp("art") / "v1"
    return train_predictor(samples, path, version="t1", quick=True, min_device_samples=4)


def _context(graphs: list[GraphIR], values: list[float]) -> DeviceContext:
    samples = tuple(Sample(g, "new", latency_ms=v) for g, v in zip(graphs, values, strict=False))
    return DeviceContext("new", samples=samples)


def _means(predictor: EnsemblePredictor, graphs: list[GraphIR], ctx: DeviceContext) -> np.ndarray:
    batch = predictor.predict(graphs, ctx)
    return np.asarray([[e["latency_ms"].mean, e["latency_ms"].std] for e in batch.estimates])


def _load(path: Path) -> EnsemblePredictor:
    predictor = load_predictor(path)
    assert isinstance(predictor, EnsemblePredictor)
    return predictor


@pytest.mark.parametrize("n_samples", [2, 6])
def test_cached_fewshot_head_gives_identical_results(
    artifact: Path, tiny_graphs: list[GraphIR], n_samples: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(tiny_graphs[:n_samples], [2.0 + i for i in range(n_samples)])
    cold = _means(_load(artifact), tiny_graphs, ctx)
    predictor = _load(artifact)
    first = _means(predictor, tiny_graphs, ctx)
    forwarded: list[int] = []
    real = predictor.ensemble.log_predict

    def spy(data: list[Data], metric: str) -> np.ndarray:
        forwarded.append(len(data))
        return real(data, metric)

    monkeypatch.setattr(predictor.ensemble, "log_predict", spy)
    again = _means(predictor, tiny_graphs[:1], ctx)  # one graph: one small forward, no refit
    assert forwarded == [1]
    assert np.array_equal(first, cold)
    assert np.array_equal(again, cold[:1])


def test_fewshot_cache_follows_the_samples(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    predictor = _load(artifact)
    a = _means(predictor, tiny_graphs, _context(tiny_graphs[:5], [2.0, 3.0, 4.0, 5.0, 6.0]))
    b = _means(predictor, tiny_graphs, _context(tiny_graphs[:5], [2.0, 3.0, 4.0, 5.0, 9.0]))
    fresh = _means(
        _load(artifact), tiny_graphs, _context(tiny_graphs[:5], [2.0, 3.0, 4.0, 5.0, 9.0])
    )
    assert not np.allclose(a, b)
    assert np.array_equal(b, fresh)


def test_fewshot_matches_joint_adaptation(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    """Support and query graphs adapted in one joint call (the former path) agree to rounding."""
    predictor = _load(artifact)
    values = [2.0, 3.5, 4.0, 6.0, 7.5]
    ours = _means(predictor, tiny_graphs, _context(tiny_graphs[:5], values))
    data = [featurize(g) for g in [*tiny_graphs, *tiny_graphs[:5]]]
    n = len(tiny_graphs)
    log_macs = np.log(np.maximum([float(g.macs) for g in [*tiny_graphs, *tiny_graphs[:5]]], 1.0))
    basis = torch.cat([d.basis for d in data]).double().numpy()
    joint = adapt_and_predict(
        predictor.ensemble.log_predict(data, "latency_ms"),
        basis,
        np.arange(n, n + 5),
        np.asarray(values),
        predictor.fewshot,
        log_macs,
        basis,
    )
    assert np.allclose(ours[:, 0], joint.value[:n], rtol=1e-5)
    assert np.allclose(ours[:, 1], joint.std_natural[:n], rtol=1e-5)


def _with_sigmoid() -> GraphIR:
    b = GraphBuilder("tiny-sigmoid")
    x = b.add_input((1, 3, 8, 8))
    (y,) = b.add_node(
        "Conv",
        [x],
        [TensorSpec((1, 8, 8, 8))],
        weights=[TensorSpec((8, 3, 3, 3))],
        attrs={"kernel_shape": (3, 3), "strides": (1, 1), "group": 1},
    )
    (y,) = b.add_node("Sigmoid", [y], [TensorSpec((1, 8, 8, 8))])
    (y,) = b.add_node("GlobalAveragePool", [y], [TensorSpec((1, 8, 1, 1))])
    (y,) = b.add_node("Flatten", [y], [TensorSpec((1, 8))])
    (y,) = b.add_node("Gemm", [y], [TensorSpec((1, 10))], weights=[TensorSpec((10, 8))])
    b.mark_output(y)
    return b.build()


def test_learned_head_yields_to_fewshot_on_op_types_the_device_never_measured(
    artifact: Path, tiny_graphs: list[GraphIR]
) -> None:
    predictor = _load(artifact)
    graphs = [*tiny_graphs, _with_sigmoid()]
    head_only = _means(predictor, graphs, DeviceContext("cpu_a"))
    measured = tuple(Sample(g, "cpu_a", latency_ms=1.0 + g.macs / 1e5) for g in tiny_graphs)
    got = _means(predictor, graphs, DeviceContext("cpu_a", samples=measured))
    np.testing.assert_allclose(got[:-1], head_only[:-1])  # op types it measured: its own head
    assert got[-1, 0] != pytest.approx(head_only[-1, 0])  # Sigmoid never measured: few-shot
    measured_all = (*measured, Sample(graphs[-1], "cpu_a", latency_ms=1.0))
    every = _means(predictor, graphs, DeviceContext("cpu_a", samples=measured_all))
    np.testing.assert_allclose(every, head_only)  # nothing foreign: the learned head answers
