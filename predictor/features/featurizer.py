"""Featurize a :class:`GraphIR` into a :class:`torch_geometric.data.Data`.

Node features: ``op`` (index into :data:`OP_VOCAB`, embedded by the model) and ``x_num``, the
``log1p`` numeric features (:data:`NODE_NUMERIC`). Graph features ``u_raw``: ``log1p`` of
:data:`GRAPH_NUMERIC`. ``basis``: per-op-type sums (count, GMACs, MB out) that the few-shot
head uses as an additive cost basis. Featurized graphs carry no fitted constants, so they can be
cached; the model standardises with its saved :class:`FeatureConstants`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.features.vocab import OP_VOCAB, op_index
from predictor.ir.schema import IR_VERSION, GraphIR, Node

NODE_NUMERIC: tuple[str, ...] = (
    "macs",
    "flops",
    "params",
    "output_bytes",
    "kernel",
    "stride",
    "groups",
    "channels_in",
    "channels_out",
    "spatial_out",
    "int8",
)
GRAPH_NUMERIC: tuple[str, ...] = (
    "macs",
    "flops",
    "params",
    "model_bytes",
    "peak_activation_bytes",
    "num_nodes",
)
BASIS_PER_OP = 3  # count, GMACs, MB written


@dataclass(frozen=True)
class FeatureConstants:
    """Standardisation constants of the log1p numeric features (saved with every model)."""

    node_mean: tuple[float, ...]
    node_std: tuple[float, ...]
    graph_mean: tuple[float, ...]
    graph_std: tuple[float, ...]
    ir_version: int = IR_VERSION

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)

    @staticmethod
    def from_dict(raw: dict[str, object]) -> FeatureConstants:
        """Inverse of :meth:`to_dict`."""
        return FeatureConstants(
            node_mean=tuple(raw["node_mean"]),  # type: ignore[arg-type]
            node_std=tuple(raw["node_std"]),  # type: ignore[arg-type]
            graph_mean=tuple(raw["graph_mean"]),  # type: ignore[arg-type]
            graph_std=tuple(raw["graph_std"]),  # type: ignore[arg-type]
            ir_version=int(raw["ir_version"]),  # type: ignore[call-overload]
        )

    @staticmethod
    def identity() -> FeatureConstants:
        """No standardisation (mean 0, std 1)."""
        return FeatureConstants(
            (0.0,) * len(NODE_NUMERIC),
            (1.0,) * len(NODE_NUMERIC),
            (0.0,) * len(GRAPH_NUMERIC),
            (1.0,) * len(GRAPH_NUMERIC),
        )


def _first(value: object, default: int) -> int:
    if isinstance(value, tuple) and value:
        return int(math.prod(int(v) for v in value))
    if isinstance(value, int | float):
        return int(value)
    return default


def node_numeric(node: Node) -> list[float]:
    """Raw (unscaled) numeric features of one node, in :data:`NODE_NUMERIC` order."""
    inp = node.inputs[0].shape if node.inputs else ()
    out = node.outputs[0].shape if node.outputs else ()
    strides = node.attr("strides")
    stride = max(strides) if isinstance(strides, tuple) and strides else 1
    return [
        float(node.macs),
        float(node.flops),
        float(node.params),
        float(node.output_bytes),
        float(_first(node.attr("kernel_shape"), 1)),
        float(stride),
        float(_first(node.attr("group"), 1)),
        float(inp[1]) if len(inp) > 1 else 0.0,
        float(out[1]) if len(out) > 1 else 0.0,
        float(math.prod(out[2:])) if len(out) > 2 else 1.0,
        1.0 if node.dtype in ("int8", "uint8") else 0.0,
    ]


def graph_numeric(graph: GraphIR) -> list[float]:
    """Raw graph-level static features, in :data:`GRAPH_NUMERIC` order."""
    return [
        float(graph.macs),
        float(graph.flops),
        float(graph.params),
        float(graph.model_bytes),
        float(graph.peak_activation_bytes),
        float(graph.num_nodes),
    ]


def cost_basis(graph: GraphIR) -> np.ndarray:
    """Per-op-type sums (count, GMACs, MB of outputs) in vocabulary order, flattened."""
    basis = np.zeros((len(OP_VOCAB), BASIS_PER_OP))
    for node in graph.nodes:
        row = basis[op_index(node.op_type)]
        row += (1.0, node.macs / 1e9, node.output_bytes / 1e6)
    return basis.ravel()


def raw_arrays(graph: GraphIR) -> tuple[np.ndarray, np.ndarray]:
    """log1p node numeric features [N, F] and log1p graph features [G] (before scaling)."""
    nodes = np.log1p(np.asarray([node_numeric(n) for n in graph.nodes], dtype=np.float64))
    return nodes.reshape(len(graph.nodes), len(NODE_NUMERIC)), np.log1p(graph_numeric(graph))


def fit_constants(graphs: Sequence[Data]) -> FeatureConstants:
    """Standardisation constants from featurized graphs (std floored at 1e-3)."""
    n = torch.cat([g.x_num for g in graphs]).double().numpy()
    g = torch.cat([d.u_raw for d in graphs]).double().numpy()
    return FeatureConstants(
        tuple(n.mean(0).tolist()),
        tuple(np.maximum(n.std(0), 1e-3).tolist()),
        tuple(g.mean(0).tolist()),
        tuple(np.maximum(g.std(0), 1e-3).tolist()),
    )


def featurize(graph: GraphIR) -> Data:
    """One graph -> ``Data(op, x_num, edge_index, u_raw, basis)`` (unscaled; see module doc).

    Raises:
        ValueError: the graph has no nodes.
    """
    if not graph.nodes:
        raise ValueError("cannot featurize a graph with no nodes")
    nodes, globs = raw_arrays(graph)
    ops = [op_index(n.op_type) for n in graph.nodes]
    edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2).T
    return Data(
        op=torch.tensor(ops, dtype=torch.long),
        x_num=torch.from_numpy(nodes).float(),
        edge_index=torch.from_numpy(np.ascontiguousarray(edges)),
        u_raw=torch.from_numpy(globs).float().unsqueeze(0),
        basis=torch.from_numpy(cost_basis(graph)).float().unsqueeze(0),
        num_nodes=len(graph.nodes),
    )
