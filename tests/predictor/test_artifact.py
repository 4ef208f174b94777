from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from predictor.api import DeviceContext, Sample, evaluate, load_predictor, train_predictor
from predictor.ir.schema import GraphIR, IRVersionError


def _samples(graphs: list[GraphIR]) -> list[Sample]:
    out: list[Sample] = []
    for i, g in enumerate(graphs):
        base = 1.0 + g.macs / 1e5
        out.append(Sample(g, "cpu_a", latency_ms=base, peak_memory_bytes=None))
        out.append(Sample(g, "gpu_b", latency_ms=0.3 * base + 0.1 * i, energy_mj=2.0 * base))
    return out


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, tiny_graphs: list[GraphIR]) -> Path:
    path = tmp_path_factory.mktemp("art") / "v1"
    return train_predictor(
        _samples(tiny_graphs), path, version="t1", quick=True, min_device_samples=4
    )


def test_round_trip_and_metadata(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    meta = json.loads((artifact / "metadata.json").read_text())
    for key in ("ir_version", "feature_constants", "devices", "training_data_fingerprint"):
        assert key in meta
    assert meta["devices"] == ["cpu_a", "gpu_b"]
    p1 = load_predictor(artifact)
    p2 = load_predictor(artifact)
    assert p1.version == "t1"
    a = p1.predict(tiny_graphs, DeviceContext("cpu_a"), ["latency_ms"])
    b = p2.predict(tiny_graphs, DeviceContext("cpu_a"), ["latency_ms"])
    assert [e["latency_ms"] for e in a.estimates] == [e["latency_ms"] for e in b.estimates]
    assert not a.low_confidence


def test_ensemble_std_and_interval(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    batch = load_predictor(artifact).predict(
        tiny_graphs, DeviceContext("gpu_b"), ["latency_ms", "energy_mj"]
    )
    for est in batch.estimates:
        for metric in ("latency_ms", "energy_mj"):
            e = est[metric]  # type: ignore[index]
            assert e.std > 0
            assert e.lo <= e.mean <= e.hi


def test_unseen_device_uses_its_samples(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    predictor = load_predictor(artifact)
    samples = tuple(Sample(g, "new", latency_ms=5.0 + i) for i, g in enumerate(tiny_graphs[:4]))
    batch = predictor.predict(tiny_graphs, DeviceContext("new", samples=samples))
    means = np.asarray([e["latency_ms"].mean for e in batch.estimates])
    assert np.all(means > 0) and np.all(np.isfinite(means))
    assert batch.low_confidence  # only four measurements
    none = predictor.predict(tiny_graphs, DeviceContext("nothing"))
    assert none.low_confidence


def test_memory_falls_back_to_static_estimate(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    batch = load_predictor(artifact).predict(
        tiny_graphs, DeviceContext("cpu_a"), ["peak_memory_bytes"]
    )
    g = tiny_graphs[0]
    est = batch.estimates[0]["peak_memory_bytes"]
    assert est.mean == pytest.approx(g.peak_activation_bytes + g.model_bytes, rel=1e-6)


def test_evaluate_reports_scores(artifact: Path, tiny_graphs: list[GraphIR]) -> None:
    scores = evaluate(artifact, _samples(tiny_graphs))
    assert set(scores["latency_ms"]) == {"cpu_a", "gpu_b"}
    assert 0.0 <= scores["latency_ms"]["cpu_a"]["coverage_90"] <= 1.0  # type: ignore[operator]


def test_ir_version_mismatch_and_missing(artifact: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    meta = json.loads((artifact / "metadata.json").read_text())
    meta["ir_version"] = 999
    (bad / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(IRVersionError, match="999"):
        load_predictor(bad)
    with pytest.raises(FileNotFoundError):
        load_predictor(tmp_path / "nowhere")
