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
from itertools import chain

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.features.joined import joined_tables
from predictor.features.vocab import OP_VOCAB, op_index
from predictor.ir.fragments import joined_from
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
#: count, GMACs, MB written, M parameters read. The last is what a batch-1 decode step pays
#: for (every weight read once per token, memory-bound), which no other column tells apart
#: from compute: LLM decode few-shot MAPE 61 -> see docs/BENCHMARKS.md "LLM prefill and decode".
BASIS_PER_OP = 4
_MACS = NODE_NUMERIC.index("macs")
_PARAMS = NODE_NUMERIC.index("params")
_OUTPUT_BYTES = NODE_NUMERIC.index("output_bytes")


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


#: Featurized node rows kept between calls (search-space builders reuse equal ``Node`` objects).
NODE_CACHE_SIZE = 20_000
_NodeEntry = tuple[int, tuple[float, ...]]
_node_rows: dict[Node, _NodeEntry] = {}
#: The same rows by object identity (no recursive hash); holding the node keeps its id unique.
_node_rows_by_id: dict[int, tuple[Node, _NodeEntry]] = {}


def _node_entry(node: Node) -> _NodeEntry:
    """Vocabulary index and raw numeric row of ``node``, memoized by identity and equality."""
    hit = _node_rows_by_id.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    entry = _node_rows.get(node)
    if entry is None:  # stored by equality once: re-storing an equal node costs another __eq__
        entry = (op_index(node.op_type), tuple(node_numeric(node)))
        if len(_node_rows) >= NODE_CACHE_SIZE:
            _node_rows.clear()
        _node_rows[node] = entry
    if len(_node_rows_by_id) >= NODE_CACHE_SIZE:  # parsed graphs fill it with one-off nodes
        _node_rows_by_id.clear()
    _node_rows_by_id[id(node)] = (node, entry)
    return entry


def _distinct_nodes(graph: GraphIR) -> tuple[list[Node], np.ndarray]:
    """The distinct node objects of ``graph`` and, per node, its index among them."""
    nodes = graph.nodes
    ids = np.fromiter(map(id, nodes), dtype=np.int64, count=len(nodes))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return [nodes[i] for i in first.tolist()], inverse.reshape(-1)


def _node_table_of(distinct: list[Node], inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    entries = [_node_entry(n) for n in distinct]
    ops = np.asarray([e[0] for e in entries], dtype=np.int64)
    rows = np.asarray([e[1] for e in entries], dtype=np.float64)
    return ops[inverse], rows.reshape(len(distinct), len(NODE_NUMERIC))[inverse]


def node_table(graph: GraphIR) -> tuple[np.ndarray, np.ndarray]:
    """Op indices ``[N]`` (int64) and raw numeric rows ``[N, F]`` (float64) of every node.

    Each distinct node object is looked up once per graph (a cell repeated 15 times shares its
    nodes), and each distinct node once per :data:`NODE_CACHE_SIZE` window.
    """
    return _node_table_of(*_distinct_nodes(graph))


def _graph_numeric_of(graph: GraphIR, distinct: list[Node], inverse: np.ndarray) -> list[float]:
    """:func:`graph_numeric` from the distinct nodes (exact: the totals are integer sums)."""
    counts = np.bincount(inverse, minlength=len(distinct)).tolist()
    pairs = list(zip(distinct, counts, strict=True))
    return [
        float(sum(n.macs * c for n, c in pairs)),
        float(sum(n.flops * c for n, c in pairs)),
        float(sum(n.params * c for n, c in pairs)),
        float(sum(n.weight_bytes * c for n, c in pairs)),
        float(graph.peak_activation_bytes),
        float(graph.num_nodes),
    ]


def cost_basis_from(ops: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per-op-type sums (count, GMACs, MB of outputs, M params) in vocabulary order, flattened.

    Args:
        ops: ``[N]`` vocabulary indices.
        rows: ``[N, F]`` raw numeric rows (:func:`node_numeric`).
    """
    vocab = len(OP_VOCAB)
    basis = np.empty((vocab, BASIS_PER_OP))
    basis[:, 0] = np.bincount(ops, minlength=vocab)
    basis[:, 1] = np.bincount(ops, weights=rows[:, _MACS] / 1e9, minlength=vocab)
    basis[:, 2] = np.bincount(ops, weights=rows[:, _OUTPUT_BYTES] / 1e6, minlength=vocab)
    basis[:, 3] = np.bincount(ops, weights=rows[:, _PARAMS] / 1e6, minlength=vocab)
    return basis.ravel()


def cost_basis(graph: GraphIR) -> np.ndarray:
    """Per-op-type sums (count, GMACs, MB of outputs, M params) in vocabulary order, flattened."""
    return cost_basis_from(*node_table(graph))


def raw_arrays(graph: GraphIR) -> tuple[np.ndarray, np.ndarray]:
    """log1p node numeric features [N, F] and log1p graph features [G] (before scaling)."""
    _, rows = node_table(graph)
    return np.log1p(rows), np.log1p(graph_numeric(graph))


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
    ops, rows, globs = _tables(graph)
    flat = np.fromiter(chain.from_iterable(graph.edges), dtype=np.int64, count=2 * len(graph.edges))
    return Data(
        op=torch.from_numpy(ops),
        x_num=torch.from_numpy(np.log1p(rows)).float(),
        edge_index=torch.from_numpy(np.ascontiguousarray(flat.reshape(-1, 2).T)),
        u_raw=torch.from_numpy(np.log1p(globs)).float().unsqueeze(0),
        basis=torch.from_numpy(cost_basis_from(ops, rows)).float().unsqueeze(0),
        num_nodes=len(graph.nodes),
    )


def _tables(graph: GraphIR) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Op indices, raw node rows and raw graph features (:data:`GRAPH_NUMERIC`) of ``graph``.

    A graph joined from fragments is read fragment by fragment (cached per fragment), any
    other node by node; both give the same values.
    """
    parts = joined_from(graph)
    if parts is None:
        distinct, inverse = _distinct_nodes(graph)
        ops, rows = _node_table_of(distinct, inverse)
        return ops, rows, _graph_numeric_of(graph, distinct, inverse)
    ops, rows, (macs, flops, params, weight_bytes) = joined_tables(parts, _node_entry)
    peak, count = graph.peak_activation_bytes, graph.num_nodes
    return ops, rows, [float(v) for v in (macs, flops, params, weight_bytes, peak, count)]
