from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from predictor.bench.graphs import nasbench201_executed_ir
from predictor.features.featurizer import (
    BASIS_PER_OP,
    GRAPH_NUMERIC,
    NODE_NUMERIC,
    FeatureConstants,
    featurize,
    fit_constants,
)
from predictor.features.vocab import OP_VOCAB, op_index
from predictor.ir.onnx_import import ir_from_onnx
from predictor.ir.schema import GraphIR, Node
from predictor.spaces.registry import get_space


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


# The per-node Python featurizer before vectorisation, kept verbatim as the reference the fast
# path must reproduce bit for bit.
def _reference_node_numeric(node: Node) -> list[float]:
    def first(value: object, default: int) -> int:
        if isinstance(value, tuple) and value:
            return int(math.prod(int(v) for v in value))
        if isinstance(value, int | float):
            return int(value)
        return default

    inp = node.inputs[0].shape if node.inputs else ()
    out = node.outputs[0].shape if node.outputs else ()
    strides = node.attr("strides")
    stride = max(strides) if isinstance(strides, tuple) and strides else 1
    return [
        float(node.macs),
        float(node.flops),
        float(node.params),
        float(node.output_bytes),
        float(first(node.attr("kernel_shape"), 1)),
        float(stride),
        float(first(node.attr("group"), 1)),
        float(inp[1]) if len(inp) > 1 else 0.0,
        float(out[1]) if len(out) > 1 else 0.0,
        float(math.prod(out[2:])) if len(out) > 2 else 1.0,
        1.0 if node.dtype in ("int8", "uint8") else 0.0,
    ]


def _reference_featurize(graph: GraphIR) -> dict[str, torch.Tensor]:
    rows = [_reference_node_numeric(n) for n in graph.nodes]
    nodes = np.log1p(np.asarray(rows, dtype=np.float64)).reshape(len(graph.nodes), -1)
    globs = np.log1p(
        [
            float(graph.macs),
            float(graph.flops),
            float(graph.params),
            float(graph.model_bytes),
            float(graph.peak_activation_bytes),
            float(graph.num_nodes),
        ]
    )
    basis = np.zeros((len(OP_VOCAB), BASIS_PER_OP))
    for node in graph.nodes:
        row = basis[op_index(node.op_type)]
        row += (1.0, node.macs / 1e9, node.output_bytes / 1e6, node.params / 1e6)
    edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2).T
    return {
        "op": torch.tensor([op_index(n.op_type) for n in graph.nodes], dtype=torch.long),
        "x_num": torch.from_numpy(nodes).float(),
        "edge_index": torch.from_numpy(np.ascontiguousarray(edges)),
        "u_raw": torch.from_numpy(globs).float().unsqueeze(0),
        "basis": torch.from_numpy(basis.ravel()).float().unsqueeze(0),
    }


def _onnx_graph() -> GraphIR:
    """Conv/depthwise/skip/pool/Gemm ONNX model with two equal Relu nodes (distinct objects)."""
    rng = np.random.default_rng(0)

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["a"], ["b"]),
        helper.make_node(
            "Conv", ["b", "w2"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8
        ),
        helper.make_node("Relu", ["c"], ["d"]),
        helper.make_node("Add", ["b", "d"], ["e"]),
        helper.make_node("MaxPool", ["e"], ["f"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["f"], ["g"]),
        helper.make_node("Flatten", ["g"], ["h"]),
        helper.make_node("Gemm", ["h", "w3", "b3"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "mixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [weight("w1", 8, 3, 3, 3), weight("w2", 8, 1, 3, 3), weight("w3", 10, 8), weight("b3", 10)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return ir_from_onnx(model)


def _space_graphs() -> list[GraphIR]:
    """Spec-built NB201 and FBNet graphs, and NB201 graphs as executed eagerly (bench input)."""
    rng = random.Random(0)
    nb201, fbnet = get_space("nasbench201"), get_space("fbnet")
    out: list[GraphIR] = []
    for _ in range(3):
        arch = nb201.sample(rng)
        out += [nb201.to_ir(arch), nasbench201_executed_ir(arch), fbnet.to_ir(fbnet.sample(rng))]
    return out


@pytest.mark.parametrize("source", ["spaces", "onnx", "tiny"])
def test_fast_featurize_matches_reference_bit_for_bit(
    source: str, tiny_graphs: list[GraphIR]
) -> None:
    graphs = {"spaces": _space_graphs, "onnx": lambda: [_onnx_graph()], "tiny": lambda: tiny_graphs}
    for graph in graphs[source]():
        for _ in range(2):  # second pass reads the node-row cache
            got = featurize(graph)
            for key, expected in _reference_featurize(graph).items():
                value = getattr(got, key)
                assert value.dtype == expected.dtype and value.shape == expected.shape, key
                assert torch.equal(value, expected), key
            assert got.num_nodes == graph.num_nodes
