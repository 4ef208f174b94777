from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from predictor.features.featurizer import (
    BASIS_PER_OP,
    GRAPH_NUMERIC,
    NODE_NUMERIC,
    FeatureConstants,
    featurize,
    fit_constants,
)
from predictor.features.vocab import OP_VOCAB, op_index
from predictor.ir.schema import GraphIR


def test_shapes_and_indices(tiny_graph: Callable[..., GraphIR]) -> None:
    g = tiny_graph(8, 3)
    d = featurize(g)
    assert d.num_nodes == g.num_nodes == 5
    assert d.x_num.shape == (5, len(NODE_NUMERIC))
    assert d.u_raw.shape == (1, len(GRAPH_NUMERIC))
    assert d.basis.shape == (1, len(OP_VOCAB) * BASIS_PER_OP)
    assert d.edge_index.shape == (2, len(g.edges))
    assert d.op.tolist() == [op_index(n.op_type) for n in g.nodes]
    assert op_index("NoSuchOp") == 0 and OP_VOCAB[0] == "other"


def test_numeric_values_are_log1p_of_ir_costs(tiny_graph: Callable[..., GraphIR]) -> None:
    g = tiny_graph(8, 3)
    d = featurize(g)
    conv = g.nodes[0]
    assert conv.op_type == "Conv"
    assert float(d.x_num[0, NODE_NUMERIC.index("macs")]) == pytest.approx(np.log1p(conv.macs))
    assert float(d.x_num[0, NODE_NUMERIC.index("kernel")]) == pytest.approx(np.log1p(9))
    assert float(d.u_raw[0, GRAPH_NUMERIC.index("num_nodes")]) == pytest.approx(np.log1p(5))
    conv_count = d.basis[0, op_index("Conv") * BASIS_PER_OP]
    assert float(conv_count) == 1.0


def test_constants_standardise_and_round_trip(tiny_graphs: list[GraphIR]) -> None:
    data = [featurize(g) for g in tiny_graphs]
    c = fit_constants(data)
    all_nodes = torch.cat([d.x_num for d in data]).double()
    scaled = (all_nodes - torch.tensor(c.node_mean)) / torch.tensor(c.node_std)
    assert torch.allclose(
        scaled.mean(0), torch.zeros(len(NODE_NUMERIC), dtype=torch.float64), atol=1e-5
    )
    assert min(c.node_std) >= 1e-3
    assert FeatureConstants.from_dict(c.to_dict()) == c


def test_empty_graph_rejected() -> None:
    empty = GraphIR(
        nodes=(), edges=(), inputs=(), outputs=(), unknown_ops=(), peak_activation_bytes=0
    )
    with pytest.raises(ValueError, match="no nodes"):
        featurize(empty)
