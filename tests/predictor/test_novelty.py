from __future__ import annotations

import numpy as np
import pytest

from predictor.api import DeviceContext, Sample, load_predictor, train_predictor
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import cost_basis
from predictor.fewshot import FewShotConfig
from predictor.ir.builder import GraphBuilder
from predictor.ir.schema import GraphIR, TensorSpec
from predictor.novelty import Novelty, NoveltySettings, op_mix


def _graph(channels: int, kernel: int, extra: str | None = None) -> GraphIR:
    """Conv -> Relu (-> ``extra``) -> GlobalAveragePool -> Flatten -> Gemm on 1x3x8x8."""
    b = GraphBuilder("g")
    x = b.add_input((1, 3, 8, 8))
    (y,) = b.add_node(
        "Conv",
        [x],
        [TensorSpec((1, channels, 8, 8))],
        weights=[TensorSpec((channels, 3, kernel, kernel))],
        attrs={"kernel_shape": (kernel, kernel), "strides": (1, 1), "group": 1},
    )
    (y,) = b.add_node("Relu", [y], [TensorSpec((1, channels, 8, 8))])
    if extra is not None:
        for _ in range(4):
            (y,) = b.add_node(extra, [y], [TensorSpec((1, channels, 8, 8))])
    (y,) = b.add_node("GlobalAveragePool", [y], [TensorSpec((1, channels, 1, 1))])
    (y,) = b.add_node("Flatten", [y], [TensorSpec((1, channels))])
    (y,) = b.add_node(
        "Gemm", [y], [TensorSpec((1, 10))], weights=[TensorSpec((10, channels)), TensorSpec((10,))]
    )
    b.mark_output(y)
    return b.build()


def _basis(graphs: list[GraphIR]) -> np.ndarray:
    return np.stack([cost_basis(g) for g in graphs])


def test_signals_are_zero_on_measured_graphs_and_grow_with_unseen_ops() -> None:
    measured = [_graph(c, k) for c in (4, 8) for k in (1, 3)]
    novelty = Novelty.fit(_basis(measured), NoveltySettings(1.0, 1.0))
    unseen, dist = novelty.signals(_basis([measured[0], _graph(8, 3, "Sigmoid")]))
    assert unseen[0] == 0.0 and dist[0] == pytest.approx(0.0, abs=1e-6)
    # 4 Sigmoid of 9 nodes, and their share of the bytes written; no MACs
    assert 0.3 < unseen[1] < 0.5
    assert dist[1] > 0.3
    assert novelty.extra_std(_basis([measured[0]]))[0] == pytest.approx(0.0, abs=1e-6)


def test_op_mix_refuses_a_column_filtered_basis() -> None:
    with pytest.raises(ValueError, match="full cost basis"):
        op_mix(np.ones((2, 5)))


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> EnsemblePredictor:
    graphs = [_graph(c, k) for c in (4, 8, 16) for k in (1, 3)]
    samples = [
        Sample(g, dev, latency_ms=scale * (1.0 + g.macs / 1e5))
        for g in graphs
        for dev, scale in (("cpu_a", 1.0), ("gpu_b", 0.3))
    ]
    path = tmp_path_factory.mktemp("novelty") / "v1"
    out = load_predictor(
        train_predictor(samples, path, version="n1", quick=True, min_device_samples=4)
    )
    assert isinstance(out, EnsemblePredictor)
    return out


def _log_std(predictor: EnsemblePredictor, graphs: list[GraphIR]) -> np.ndarray:
    measured = [_graph(c, k) for c in (4, 8) for k in (1, 3)]
    ctx = DeviceContext(
        "new", samples=tuple(Sample(g, "new", latency_ms=1.0 + g.macs / 2e4) for g in measured)
    )
    batch = predictor.predict(graphs, ctx)
    est = [e["latency_ms"] for e in batch.estimates]
    return np.asarray([np.log(e.hi / e.lo) for e in est])


def test_an_unseen_op_type_widens_the_fewshot_interval(predictor: EnsemblePredictor) -> None:
    known, novel = _graph(16, 3), _graph(16, 3, "Sigmoid")
    assert predictor.fewshot.unseen_scale > 0  # the shipped default widens
    width = _log_std(predictor, [known, novel])
    assert width[1] > width[0] + 0.5

    plain = EnsemblePredictor(predictor.ensemble, {**predictor.meta, "fewshot": {}})
    plain.fewshot = FewShotConfig(unseen_scale=0.0, distance_scale=0.0)
    flat = _log_std(plain, [known, novel])
    assert width[1] - width[0] > flat[1] - flat[0] + 0.5  # the widening is the novelty's
