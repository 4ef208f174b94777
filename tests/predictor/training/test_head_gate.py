from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch

from predictor.api import DeviceContext, Sample, load_predictor
from predictor.artifact import load_ensemble
from predictor.features.featurizer import featurize
from predictor.training.fit import FitSettings, fit_ensemble
from predictor.training.from_samples import train_from_samples
from predictor.training.head_gate import ANCHOR_HEAD, heads_to_keep, keep_devices, split_newest
from predictor.training.samples import sample_matrix
from tests.predictor.conftest import tiny_graph

UNTRAINED = FitSettings(hidden=8, depth=1, epochs=0, members=2, batch_size=8)


def _samples(n: int, devices: tuple[str, ...] = ("a", "b")) -> list[Sample]:
    out = []
    for i in range(n):
        g = tiny_graph(channels=2 + i)
        for k, device in enumerate(devices):  # a clean power law in MACs per device
            out.append(Sample(g, device, latency_ms=(k + 1) * 0.01 * (g.macs / 1e3) ** 0.9))
    return out


def test_split_newest_holds_out_the_newest_rows_of_devices_with_enough() -> None:
    samples = _samples(20) + _samples(10, ("c",))
    fit, held = split_newest(samples, ["a", "c"])
    assert set(held) == {"a"}  # c would hold out 2 < 3 rows; b is no head device
    assert held["a"] == [s for s in samples if s.device == "a"][-4:]
    assert len(fit) == len(samples) - 4


def test_untrained_heads_lose_to_few_shot_and_only_the_best_stays_as_the_anchor() -> None:
    samples = _samples(20)
    keep = heads_to_keep(samples, ["a", "b"], UNTRAINED, None)
    assert len(keep) == 2 and keep[0] in ("a", "b") and keep[1] == ANCHOR_HEAD


def test_the_anchor_keeps_a_heads_weights_under_no_device_name() -> None:
    graphs, devices, targets = sample_matrix(_samples(8), 1)
    data = [featurize(g) for g in graphs]
    ensemble = fit_ensemble(data, targets, devices, UNTRAINED)
    kept = keep_devices(ensemble, ["b", ANCHOR_HEAD])
    assert kept.config.devices == (ANCHOR_HEAD,)
    batch = Batch.from_data_list(data)
    with torch.no_grad():
        before = ensemble.members[0](batch)["latency_ms"][:, 1]
        after = kept.members[0](batch)["latency_ms"][:, 0]
    torch.testing.assert_close(after, before)


def test_keep_devices_drops_heads_and_keeps_the_others_outputs() -> None:
    graphs, devices, targets = sample_matrix(_samples(8), 1)
    data = [featurize(g) for g in graphs]
    ensemble = fit_ensemble(data, targets, devices, UNTRAINED)
    kept = keep_devices(ensemble, ["b"])
    assert kept.config.devices == ("b",)
    batch = Batch.from_data_list(data)
    with torch.no_grad():
        before = ensemble.members[0](batch)["latency_ms"][:, 1]
        after = kept.members[0](batch)["latency_ms"][:, 0]
    torch.testing.assert_close(after, before)


def test_a_gated_artifact_serves_the_dropped_device_few_shot(tmp_path: Path) -> None:
    samples = _samples(20)
    path = train_from_samples(samples, tmp_path / "v", UNTRAINED, "v", 5)
    ensemble, meta = load_ensemble(path)
    assert meta["metrics"]["trained_devices"] == ["a", "b"]
    # untrained heads lose to few-shot on both devices: neither keeps one
    assert list(ensemble.config.devices) == [ANCHOR_HEAD] and meta["metrics"]["head_devices"] == []
    for dropped in ("a", "b"):
        own = tuple(s for s in samples if s.device == dropped)
        batch = load_predictor(path).predict(
            [s.graph for s in own], DeviceContext(dropped, samples=own)
        )
        pred = np.asarray([e["latency_ms"].mean for e in batch.estimates])
        true = np.asarray([s.latency_ms for s in own], dtype=float)
        assert float(np.median(np.abs(pred - true) / true)) < 0.2  # the power law fits it
