from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from predictor.features.collate import collate, symmetric_adjacency
from predictor.features.featurizer import featurize, fit_constants
from predictor.ir.schema import GraphIR
from predictor.models.gnn import LAYER_TYPES
from predictor.models.perf_model import ModelConfig, PerfModel


def test_collate_matches_pyg_batch(tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    ours, pyg = collate(data), Batch.from_data_list(data)
    for key in ("op", "x_num", "edge_index", "u_raw", "basis", "batch", "ptr"):
        mine, theirs = getattr(ours, key), getattr(pyg, key)
        assert mine.dtype == theirs.dtype, key
        assert torch.equal(mine, theirs), key
    assert ours.num_graphs == pyg.num_graphs and ours.num_nodes == pyg.num_nodes


def test_adjacency_sums_messages_both_ways() -> None:
    edge_index = torch.tensor([[0, 0, 1, 1], [1, 2, 2, 2]])  # parallel edge 1 -> 2
    adj = symmetric_adjacency(edge_index, 4)
    expected = torch.zeros(4, 4)
    for src, dst in edge_index.T.tolist():
        expected[dst, src] += 1  # message along the edge
        expected[src, dst] += 1  # and against it
    assert torch.equal(adj.to_dense(), expected)
    h = torch.randn(4, 3)
    assert torch.allclose(adj @ h, expected @ h)


def test_collate_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        collate([])


@pytest.mark.parametrize("layer", LAYER_TYPES)
def test_model_on_collated_batch_matches_pyg_batch(layer: str, tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    config = ModelConfig(devices=("a", "b"), hidden=8, depth=2, layer=layer)  # type: ignore[arg-type]
    torch.manual_seed(0)
    model = PerfModel(config, fit_constants(data)).eval()
    with torch.no_grad():
        ours, pyg = model(collate(data)), model(Batch.from_data_list(data))
    for metric, value in pyg.items():
        assert torch.allclose(ours[metric], value, rtol=1e-5, atol=1e-6), metric
