from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Batch

from predictor.features.featurizer import featurize, fit_constants
from predictor.ir.schema import GraphIR
from predictor.models.perf_model import ModelConfig, PerfModel
from predictor.training.calibrate import calibrate_heads
from predictor.training.dataset import attach_targets
from predictor.training.fit import QUICK_SETTINGS, FitSettings


def test_calibrated_heads_match_each_devices_mean_log_target(
    tiny_graphs: list[GraphIR],
) -> None:
    graphs = [featurize(g) for g in tiny_graphs]
    latency = np.stack([np.linspace(100, 300, len(graphs)), np.linspace(0.01, 0.02, 8)], 1)
    latency[0, 1] = np.nan  # a missing target is left out of the mean
    energy = np.full((len(graphs), 2), np.nan)  # no target at all: head left alone
    data = attach_targets(graphs, {"latency_ms": latency, "peak_memory_bytes": latency * 1e6})
    data_energy = attach_targets(graphs, {"energy_mj": energy})
    config = ModelConfig(devices=("big", "small"), hidden=8, depth=1, linear_costs=True)
    torch.manual_seed(0)
    model = PerfModel(config, fit_constants(graphs))
    before = model.heads["energy_mj"].bias.detach().clone()
    calibrate_heads(model, data)
    calibrate_heads(model, data_energy)
    out = model(Batch.from_data_list(graphs))
    for metric, scale in (("latency_ms", 1.0), ("peak_memory_bytes", 1e6)):
        pred = out[metric].detach().numpy()
        target = np.log(latency * scale)
        for j in range(2):
            ok = np.isfinite(target[:, j])
            assert abs(pred[ok, j].mean() - target[ok, j].mean()) < 1e-4
    assert torch.equal(model.heads["energy_mj"].bias, before)


def test_min_steps_adds_epochs_but_keeps_untrained_untrained() -> None:
    settings = FitSettings(epochs=30, batch_size=64, min_steps=1500)
    assert settings.epochs_for(900) == 100  # 15 batches per epoch
    assert settings.epochs_for(100_000) == 30
    assert FitSettings(epochs=0).epochs_for(900) == 0
    assert QUICK_SETTINGS.epochs_for(900) == QUICK_SETTINGS.epochs
