"""The perfloop model: graph encoder + per-metric, per-device heads, outputs in log space."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_add_pool, global_mean_pool

from predictor.features.collate import GraphBatch
from predictor.features.featurizer import GRAPH_NUMERIC, NODE_NUMERIC, FeatureConstants
from predictor.features.vocab import OP_VOCAB
from predictor.models.gnn import GraphEncoder, LayerType
from predictor.models.heads import AdditiveHead, PooledHead
from predictor.types import METRICS, Metric

ADDITIVE_METRICS: frozenset[str] = frozenset({"latency_ms", "energy_mj"})
#: Summed node embeddings are divided by this so typical graphs give O(1) values.
SUM_SCALE = 100.0
#: Linear graph totals of the additive heads' optional roofline term, as (node feature index or
#: -1 for the node count, divisor): 10 x GMACs, MB written / 10, nodes / 100, each O(1) on the
#: NAS-Bench-201 and FBNet CIFAR networks.
LINEAR_TOTALS: tuple[tuple[int, float], ...] = (
    (NODE_NUMERIC.index("macs"), 1e8),
    (NODE_NUMERIC.index("output_bytes"), 1e7),
    (-1, 100.0),
)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters (saved in artifacts)."""

    devices: tuple[str, ...]
    metrics: tuple[Metric, ...] = METRICS
    hidden: int = 64
    depth: int = 3
    layer: LayerType = "sage"
    #: Additive heads also get a non-negative per-device linear term on graph totals (MACs,
    #: bytes written, node count; :data:`LINEAR_TOTALS`). False in artifacts made before it.
    linear_costs: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)

    @staticmethod
    def from_dict(raw: dict[str, object]) -> ModelConfig:
        """Inverse of :meth:`to_dict`."""
        return ModelConfig(
            devices=tuple(raw["devices"]),  # type: ignore[arg-type]
            metrics=tuple(raw["metrics"]),  # type: ignore[arg-type]
            hidden=int(raw["hidden"]),  # type: ignore[call-overload]
            depth=int(raw["depth"]),  # type: ignore[call-overload]
            layer=raw["layer"],  # type: ignore[arg-type]
            linear_costs=bool(raw.get("linear_costs", False)),
        )


class PerfModel(nn.Module):
    """Predicts log(metric) for every known device of every metric in one pass."""

    node_mean: torch.Tensor
    node_std: torch.Tensor
    graph_mean: torch.Tensor
    graph_std: torch.Tensor

    def __init__(self, config: ModelConfig, constants: FeatureConstants) -> None:
        super().__init__()
        self.config = config
        self.constants = constants
        self.register_buffer("node_mean", torch.tensor(constants.node_mean))
        self.register_buffer("node_std", torch.tensor(constants.node_std))
        self.register_buffer("graph_mean", torch.tensor(constants.graph_mean))
        self.register_buffer("graph_std", torch.tensor(constants.graph_std))
        d = len(config.devices)
        self.encoder = GraphEncoder(
            len(OP_VOCAB), len(NODE_NUMERIC), config.hidden, config.depth, config.layer
        )
        self.heads = nn.ModuleDict()
        for metric in config.metrics:
            if metric in ADDITIVE_METRICS:
                linear = len(LINEAR_TOTALS) if config.linear_costs else 0
                self.heads[metric] = AdditiveHead(config.hidden, d, linear=linear)
            else:
                self.heads[metric] = PooledHead(config.hidden, len(GRAPH_NUMERIC), d)

    def embed(self, batch: Batch | GraphBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Summed (/ :data:`SUM_SCALE`) and mean-pooled node embeddings, scaled graph features.

        A :class:`GraphBatch` brings its prebuilt symmetric adjacency; a PyG ``Batch`` its edge
        index only.
        """
        x = (batch.x_num - self.node_mean) / self.node_std
        adjacency = batch.adjacency if isinstance(batch, GraphBatch) else None
        h = self.encoder(batch.op, x, batch.edge_index, adjacency)
        u = (batch.u_raw - self.graph_mean) / self.graph_std
        size = batch.num_graphs
        summed = global_add_pool(h, batch.batch, size) / SUM_SCALE
        return summed, global_mean_pool(h, batch.batch, size), u

    def forward(self, batch: Batch | GraphBatch) -> dict[str, torch.Tensor]:
        """Log predictions per metric, each ``[B, num_devices]``."""
        summed, pooled, u = self.embed(batch)
        totals = linear_totals(batch) if self.config.linear_costs else None
        out: dict[str, torch.Tensor] = {}
        for metric, head in self.heads.items():
            if isinstance(head, AdditiveHead):
                out[metric] = head(summed, totals)
            else:
                out[metric] = head(pooled, u)
        return out


def linear_totals(batch: Batch | GraphBatch) -> torch.Tensor:
    """``[B, len(LINEAR_TOTALS)]`` per-graph sums of raw node MACs, bytes written and nodes."""
    cols = []
    for index, divisor in LINEAR_TOTALS:
        if index < 0:
            cols.append(torch.full_like(batch.x_num[:, 0], 1.0 / divisor))
        else:
            cols.append(torch.expm1(batch.x_num[:, index]) / divisor)
    return global_add_pool(torch.stack(cols, dim=1), batch.batch, batch.num_graphs)
