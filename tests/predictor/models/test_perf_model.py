from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from predictor.features.featurizer import featurize, fit_constants
from predictor.ir.schema import GraphIR
from predictor.models.gnn import LAYER_TYPES
from predictor.models.perf_model import ModelConfig, PerfModel


@pytest.mark.parametrize("layer", LAYER_TYPES)
def test_forward_shapes_every_layer(layer: str, tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    config = ModelConfig(devices=("a", "b"), hidden=8, depth=1, layer=layer)  # type: ignore[arg-type]
    model = PerfModel(config, fit_constants(data))
    out = model(Batch.from_data_list(data))
    assert set(out) == {"latency_ms", "energy_mj", "peak_memory_bytes"}
    for value in out.values():
        assert value.shape == (len(data), 2)
        assert torch.all(torch.isfinite(value))


def test_additive_head_is_bounded_below_by_bias(tiny_graph) -> None:  # type: ignore[no-untyped-def]
    small, big = featurize(tiny_graph(8, 3, False)), featurize(tiny_graph(8, 3, True))
    model = PerfModel(
        ModelConfig(devices=("a",), metrics=("latency_ms",)), fit_constants([small, big])
    )
    out = model(Batch.from_data_list([small, big]))["latency_ms"]
    assert torch.all(torch.isfinite(out))
    head = model.heads["latency_ms"]
    summed, _, _ = model.embed(Batch.from_data_list([small, big]))
    assert torch.all(summed >= 0)  # non-negative node embeddings: every node adds cost
    bias_only = torch.log(torch.exp(head.bias))
    assert torch.all(out[:, 0] >= bias_only - 1e-5)
