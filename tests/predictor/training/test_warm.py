from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from predictor.api import DeviceContext, Sample, load_predictor, train_predictor
from predictor.artifact import load_ensemble
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR
from predictor.models.perf_model import PerfModel
from predictor.training.dataset import attach_targets
from predictor.training.fit import FitSettings
from predictor.training.from_samples import train_from_samples
from predictor.training.loss import multi_metric_loss
from predictor.training.samples import sample_matrix
from predictor.training.warm import transfer, warm_member

SETTINGS = FitSettings(hidden=8, depth=1, epochs=3, members=2, batch_size=4, min_steps=0)


def _samples(graphs: list[GraphIR], devices: tuple[str, ...]) -> list[Sample]:
    out: list[Sample] = []
    for i, g in enumerate(graphs):
        base = 1.0 + g.macs / 1e5
        for k, device in enumerate(devices):
            out.append(Sample(g, device, latency_ms=(k + 1) * base + 0.05 * i))
    return out


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, tiny_graphs: list[GraphIR]) -> Path:
    path = tmp_path_factory.mktemp("warm") / "v1"
    return train_from_samples(_samples(tiny_graphs, ("a", "b")), path, SETTINGS, "v1", 4)


def _means(path: Path, graphs: list[GraphIR], device: str) -> np.ndarray:
    batch = load_predictor(path).predict(graphs, DeviceContext(device))
    return np.asarray([e["latency_ms"].mean for e in batch.estimates])


def _loss(model: PerfModel, samples: list[Sample]) -> float:
    graphs, devices, targets = sample_matrix(samples, 1)
    assert tuple(devices) == model.config.devices
    data = attach_targets([featurize(g) for g in graphs], targets)
    batch = Batch.from_data_list(data)
    model.eval()
    with torch.no_grad():
        ys: dict[str, torch.Tensor] = {m: getattr(batch, f"y_{m}") for m in targets}
        return float(multi_metric_loss(model(batch), ys))


def test_zero_epochs_reproduces_the_artifact_and_adds_new_devices(
    artifact: Path, tiny_graphs: list[GraphIR], tmp_path: Path
) -> None:
    samples = _samples(tiny_graphs, ("a", "b", "c"))  # c is new, b keeps its head
    zero = FitSettings(hidden=16, depth=2, epochs=0, members=2, batch_size=4)  # size ignored
    out = train_from_samples(samples, tmp_path / "v2", zero, "v2", 4, init_from=artifact)
    old, _ = load_ensemble(artifact)
    new, meta = load_ensemble(out)
    assert new.config.devices == ("a", "b", "c")
    assert (new.config.hidden, new.config.depth) == (old.config.hidden, old.config.depth)
    assert new.members[0].constants == old.members[0].constants
    assert meta["metrics"]["warm_start_from"] == str(artifact)
    for device in ("a", "b"):
        np.testing.assert_allclose(
            _means(out, tiny_graphs, device), _means(artifact, tiny_graphs, device), rtol=1e-6
        )
    assert np.all(np.isfinite(_means(out, tiny_graphs, "c")))


def test_device_order_change_keeps_each_devices_head(
    artifact: Path, tiny_graphs: list[GraphIR]
) -> None:
    old, _ = load_ensemble(artifact)
    config = replace(old.config, devices=("b", "z", "a"))
    model = warm_member(old, 0, config)
    batch = Batch.from_data_list([featurize(g) for g in tiny_graphs])
    with torch.no_grad():
        before = old.members[0](batch)["latency_ms"]
        after = model.eval()(batch)["latency_ms"]
    torch.testing.assert_close(after[:, 0], before[:, 1])
    torch.testing.assert_close(after[:, 2], before[:, 0])


def test_transfer_refuses_another_model_size(artifact: Path) -> None:
    old, _ = load_ensemble(artifact)
    bigger = type(old.config)(devices=("a",), metrics=old.config.metrics, hidden=12, depth=1)
    with pytest.raises(ValueError, match="cannot warm-start"):
        transfer(old.members[0], PerfModel(bigger, old.members[0].constants))


def test_warm_start_begins_at_the_artifacts_loss_and_fine_tunes(
    artifact: Path, tiny_graphs: list[GraphIR], tmp_path: Path
) -> None:
    samples = _samples(tiny_graphs, ("a", "b"))
    old, _ = load_ensemble(artifact)
    start = [_loss(m, samples) for m in old.members]
    warm = [warm_member(old, i, old.config) for i in range(2)]
    assert [_loss(m, samples) for m in warm] == pytest.approx(start)
    more = FitSettings(hidden=8, depth=1, epochs=40, members=2, batch_size=4, min_steps=0)
    out = train_from_samples(samples, tmp_path / "v3", more, "v3", 4, init_from=artifact)
    tuned, _ = load_ensemble(out)
    after = [_loss(m, samples) for m in tuned.members]
    assert all(a < s for a, s in zip(after, start, strict=True)), (start, after)


def test_train_predictor_warm_starts_through_the_api(
    artifact: Path, tiny_graphs: list[GraphIR], tmp_path: Path
) -> None:
    samples = _samples(tiny_graphs, ("a", "b"))
    out = train_predictor(
        samples, tmp_path / "v4", quick=True, min_device_samples=4, init_from=artifact
    )
    _, meta = load_ensemble(out)
    assert meta["metrics"]["warm_start_from"] == str(artifact)
    assert meta["model_config"]["hidden"] == SETTINGS.hidden  # the artifact's size, not quick's
    with pytest.raises(FileNotFoundError):
        train_predictor(
            samples,
            tmp_path / "v5",
            quick=True,
            min_device_samples=4,
            init_from=tmp_path / "missing",
        )
