"""Graph encoder: node features -> per-node embeddings (non-negative) via message passing."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn
from torch_geometric.nn import GATConv, GINConv, SAGEConv

LayerType = Literal["sage", "gin", "gat"]
LAYER_TYPES: tuple[str, ...] = get_args(LayerType)


def _make_conv(layer: LayerType, hidden: int) -> nn.Module:
    if layer == "sage":
        return SAGEConv(hidden, hidden, aggr="sum")
    if layer == "gin":
        mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        return GINConv(mlp, train_eps=True)
    if layer == "gat":
        return GATConv(hidden, hidden // 2, heads=2, add_self_loops=True)
    raise ValueError(f"unknown layer type {layer!r}; choose one of {', '.join(LAYER_TYPES)}")


class GraphEncoder(nn.Module):
    """Op embedding + numeric projection, ``depth`` residual message-passing layers, ReLU output.

    Messages flow both along and against the IR edges (the edge index is symmetrised), so a node
    sees its producers and consumers.
    """

    def __init__(
        self,
        num_ops: int,
        num_numeric: int,
        hidden: int = 64,
        depth: int = 3,
        layer: LayerType = "sage",
    ) -> None:
        super().__init__()
        self.layer = layer
        self.hidden = hidden
        self.op_embedding = nn.Embedding(num_ops, hidden)
        self.numeric = nn.Linear(num_numeric, hidden)
        self.inp = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden))
        self.convs = nn.ModuleList([_make_conv(layer, hidden) for _ in range(depth)])
        self.norms = nn.ModuleList([nn.LayerNorm(hidden) for _ in range(depth)])
        self.out = nn.Linear(hidden, hidden)

    def forward(
        self,
        op: torch.Tensor,
        x_num: torch.Tensor,
        edge_index: torch.Tensor,
        adjacency: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Node embeddings ``[N, hidden]`` (all entries >= 0) from op indices and numerics.

        Args:
            op: ``[N]`` op vocabulary indices.
            x_num: ``[N, F]`` standardised numeric features.
            edge_index: ``[2, E]`` IR edges.
            adjacency: optional prebuilt sparse CSR of the symmetrised edges
                (:func:`predictor.features.collate.symmetric_adjacency`), shared by every layer
                (and every ensemble member); used by the ``sage`` and ``gin`` layers.
        """
        both: torch.Tensor
        if adjacency is not None and self.layer != "gat":
            both = adjacency
        else:
            both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        h = self.inp(self.op_embedding(op) + self.numeric(x_num))
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + torch.relu(norm(conv(h, both)))
        return torch.relu(self.out(h))
