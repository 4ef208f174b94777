"""Node tables of graphs joined from fragments, built from per-fragment tables.

A graph made by :func:`predictor.ir.fragments.join_fragments` (FBNet, NAS-Bench-201) is a
sequence of a few hundred distinct, shared fragments. Each fragment's op indices, raw numeric
rows and integer cost totals are computed once; a graph's tables are their concatenation in
fragment order, which is its node order, so they hold the same values as reading the graph's
nodes one by one (tested bit for bit against :func:`predictor.features.featurizer.featurize`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from predictor.ir.fragments import Fragment
from predictor.ir.schema import Node

#: Fragments whose tables are kept (FBNet has ~200 fragments; NB201 five per cell topology).
FRAGMENT_CACHE_SIZE = 20_000

_FragmentTable = tuple[np.ndarray, np.ndarray, tuple[int, ...]]
#: A node's vocabulary index and raw numeric row (the featurizer's memoized reader).
NodeEntry = Callable[[Node], tuple[int, Sequence[float]]]
#: Keyed by identity; the entry holds the fragment, so its id stays unique while cached.
_tables: dict[int, tuple[Fragment, _FragmentTable]] = {}


def _fragment_table(fragment: Fragment, entry_of: NodeEntry) -> _FragmentTable:
    hit = _tables.get(id(fragment))
    if hit is not None and hit[0] is fragment:
        return hit[1]
    nodes: Sequence[Node] = fragment.nodes
    entries = [entry_of(n) for n in nodes]
    ops = np.asarray([e[0] for e in entries], dtype=np.int64)
    rows = np.asarray([e[1] for e in entries], dtype=np.float64)
    totals = (
        sum(n.macs for n in nodes),
        sum(n.flops for n in nodes),
        sum(n.params for n in nodes),
        sum(n.weight_bytes for n in nodes),
    )
    table = (ops, rows, totals)
    if len(_tables) >= FRAGMENT_CACHE_SIZE:
        _tables.clear()
    _tables[id(fragment)] = (fragment, table)
    return table


def joined_tables(
    parts: Sequence[Fragment], entry_of: NodeEntry
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Op indices ``[N]``, raw numeric rows ``[N, F]`` and integer totals of a joined graph.

    Args:
        parts: the graph's fragments (:func:`predictor.ir.fragments.joined_from`), at least
            one with nodes.
        entry_of: a node's vocabulary index and raw numeric row (NB201 cells of new
            topologies are new fragments made of shared nodes, so the featurizer's
            per-node memo still saves work there).

    Returns:
        Op indices, rows, and (MACs, FLOPs, parameters, weight bytes) of the whole graph as
        exact integers.
    """
    tables = [_fragment_table(f, entry_of) for f in parts if f.nodes]
    ops = np.concatenate([t[0] for t in tables])
    rows = np.concatenate([t[1] for t in tables])
    totals = [sum(column) for column in zip(*(t[2] for t in tables), strict=True)]
    return ops, rows, totals
