"""Fast collation of featurized graphs into one inference batch.

:meth:`torch_geometric.data.Batch.from_data_list` is general (any attribute, any increment rule)
and therefore slow for thousands of small graphs. :func:`collate` knows the five tensors
:func:`predictor.features.featurizer.featurize` produces and concatenates them directly; the
result holds the same ``op``, ``x_num``, ``edge_index``, ``u_raw``, ``basis``, ``batch`` and
``ptr`` tensors as ``Batch.from_data_list`` (tested), plus the symmetrised adjacency every
message-passing layer of every ensemble member reuses.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Data


@dataclass(frozen=True)
class GraphBatch:
    """Several featurized graphs as one disjoint graph (the attributes the model reads)."""

    op: torch.Tensor
    x_num: torch.Tensor
    edge_index: torch.Tensor
    u_raw: torch.Tensor
    basis: torch.Tensor
    batch: torch.Tensor
    ptr: torch.Tensor
    adjacency: torch.Tensor

    @property
    def num_graphs(self) -> int:
        """Number of graphs in the batch."""
        return int(self.ptr.numel()) - 1

    @property
    def num_nodes(self) -> int:
        """Total number of nodes."""
        return int(self.op.numel())


def symmetric_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Sparse CSR ``[N, N]`` matrix with one entry per message of the symmetrised edge index.

    Row ``i`` lists the sources of the messages node ``i`` receives: its producers and its
    consumers (``edge_index`` plus its reverse), one entry per edge (parallel edges repeat), so
    ``A @ h`` equals a sum aggregation over ``cat([edge_index, edge_index.flip(0)])``.

    Args:
        edge_index: ``[2, E]`` (producer, consumer) pairs.
        num_nodes: N.
    """
    target = torch.cat([edge_index[1], edge_index[0]])
    source = torch.cat([edge_index[0], edge_index[1]])
    order = torch.argsort(target, stable=True)
    counts = torch.bincount(target, minlength=num_nodes)
    crow = torch.zeros(num_nodes + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=crow[1:])
    values = torch.ones(target.numel(), dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            crow, source[order], values, (num_nodes, num_nodes), check_invariants=False
        )


def collate(graphs: Sequence[Data]) -> GraphBatch:
    """One :class:`GraphBatch` from graphs made by ``featurize`` (same order).

    Raises:
        ValueError: no graph given.
    """
    if not graphs:
        raise ValueError("cannot collate an empty list of graphs")
    sizes = torch.tensor([int(g.op.numel()) for g in graphs], dtype=torch.long)
    ptr = torch.zeros(len(graphs) + 1, dtype=torch.long)
    torch.cumsum(sizes, 0, out=ptr[1:])
    edges = [g.edge_index for g in graphs]
    edge_counts = torch.tensor([int(e.shape[1]) for e in edges], dtype=torch.long)
    offsets = torch.repeat_interleave(ptr[:-1], edge_counts)
    edge_index = torch.cat(edges, dim=1) + offsets
    num_nodes = int(ptr[-1])
    return GraphBatch(
        op=torch.cat([g.op for g in graphs]),
        x_num=torch.cat([g.x_num for g in graphs]),
        edge_index=edge_index,
        u_raw=torch.cat([g.u_raw for g in graphs]),
        basis=torch.cat([g.basis for g in graphs]),
        batch=torch.repeat_interleave(torch.arange(len(graphs)), sizes),
        ptr=ptr,
        adjacency=symmetric_adjacency(edge_index, num_nodes),
    )
