from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch_geometric.data import Batch

from predictor.features.featurizer import featurize, fit_constants
from predictor.ir.schema import GraphIR
from predictor.models.gnn import LAYER_TYPES
from predictor.models.heads import AdditiveHead
from predictor.models.perf_model import LINEAR_TOTALS, ModelConfig, PerfModel, linear_totals


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


def test_linear_costs_head_sums_graph_totals(tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    config = ModelConfig(devices=("a",), metrics=("latency_ms",), hidden=8, depth=1)
    model = PerfModel(replace(config, linear_costs=True), fit_constants(data))
    head = model.heads["latency_ms"]
    assert isinstance(head, AdditiveHead) and head.linear is not None
    batch = Batch.from_data_list(data)
    totals = linear_totals(batch)
    assert totals.shape == (len(data), len(LINEAR_TOTALS))
    macs = torch.tensor([float(g.macs) for g in tiny_graphs])
    assert torch.allclose(totals[:, 0], macs / 1e8, rtol=1e-4)
    assert torch.allclose(totals[:, 2], torch.tensor([g.num_nodes / 100 for g in tiny_graphs]))
    with torch.no_grad():  # a huge per-MAC cost: latency ~ c * MACs
        for param in (head.weight, head.bias, head.linear):
            param.fill_(-30.0)
        head.linear[0, 0] = 10.0
    out = model(batch)["latency_ms"][:, 0]
    assert torch.allclose(out, torch.log(macs / 1e8 * torch.exp(torch.tensor(10.0))), rtol=1e-3)


def test_linear_costs_off_in_old_configs() -> None:
    raw = ModelConfig(devices=("a",)).to_dict()
    del raw["linear_costs"]
    assert ModelConfig.from_dict(raw).linear_costs is False
    assert ModelConfig.from_dict({**raw, "linear_costs": True}).linear_costs is True
