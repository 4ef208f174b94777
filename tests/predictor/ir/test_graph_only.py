"""Graph-only models: absent external weights, exact static features, named errors."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from predictor.errors import GraphOnlyError
from predictor.ir import ir_from_onnx
from predictor.ir.graph_only import STRIPPED_LOCATION, is_graph_only, strip

from .models import conv_model


def _reference(name: str, dims: list[int], dtype: int = TensorProto.FLOAT) -> TensorProto:
    tensor = TensorProto(name=name, data_type=dtype, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="absent.bin")
    return tensor


def decoder_graph_only(vocab: int, dim: int, layers: int, ffn: int) -> onnx.ModelProto:
    """A decode-step-shaped chain: embedding Gather, per layer q/k/v/o and a 3-matrix FFN
    (MatMuls with absent weights), an LM head; every weight an external reference."""
    nodes = [helper.make_node("Gather", ["embed", "ids"], ["h0"], axis=0)]
    weights = [_reference("embed", [vocab, dim])]
    x = "h0"
    for i in range(layers):
        shapes = [(dim, dim)] * 4 + [(dim, ffn), (dim, ffn), (ffn, dim)]
        for j, (k, n) in enumerate(shapes):
            name = f"w{i}_{j}"
            weights.append(_reference(name, [k, n]))
            if j == 6:
                nodes.append(helper.make_node("Mul", [f"m{i}_4", f"m{i}_5"], [f"g{i}"]))
            source = x if j < 6 else f"g{i}"
            nodes.append(helper.make_node("MatMul", [source, name], [f"m{i}_{j}"]))
        total = [f"m{i}_{j}" for j in (0, 1, 2, 3, 6)]
        nodes.append(helper.make_node("Sum", [x, *total], [f"h{i + 1}"]))
        x = f"h{i + 1}"
    weights.append(_reference("head", [dim, vocab]))
    nodes.append(helper.make_node("MatMul", [x, "head"], ["logits"]))
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 1])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, vocab])
    graph = helper.make_graph(nodes, "decoder", [ids], [out], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_one_billion_parameters_in_a_small_file_with_exact_counts() -> None:
    vocab, dim, layers, ffn = 32000, 2048, 20, 5632
    model = decoder_graph_only(vocab, dim, layers, ffn)
    data = model.SerializeToString()
    assert len(data) < 1_000_000 and is_graph_only(model)
    graph = ir_from_onnx(data)
    per_layer = 4 * dim * dim + 3 * dim * ffn  # hand count: q, k, v, o and the SwiGLU matrices
    params = 2 * vocab * dim + layers * per_layer
    assert params > 1_000_000_000
    assert graph.params == params
    assert graph.macs == layers * per_layer + dim * vocab  # one token: K*N per matrix product
    assert graph.model_bytes == 4 * params


def test_strip_keeps_the_ir_and_drops_the_weights() -> None:
    model = conv_model()
    big = np.ones((64, 64), np.float32)
    model.graph.initializer.append(onnx.numpy_helper.from_array(big, "unused_big"))
    stripped = strip(model, min_bytes=1024)
    assert is_graph_only(stripped) and not is_graph_only(model)
    refs = {t.name: t for t in stripped.graph.initializer if t.external_data}
    assert set(refs) == {"unused_big"}
    assert {e.key: e.value for e in refs["unused_big"].external_data}["location"] == (
        STRIPPED_LOCATION
    )
    assert stripped.ByteSize() < model.ByteSize() - big.nbytes + 200
    assert ir_from_onnx(strip(model, min_bytes=0)) == ir_from_onnx(model)


@pytest.mark.parametrize(
    ("tensor", "match"),
    [
        (_reference("w", [8, 8], dtype=999), "data_type=999"),
        (_reference("w", [8, 8], dtype=TensorProto.STRING), "string tensor"),
    ],
)
def test_bad_references_are_named(tensor: TensorProto, match: str) -> None:
    model = decoder_graph_only(16, 8, 1, 8)
    model.graph.initializer[1].CopyFrom(tensor)
    model.graph.initializer[1].name = "w0_0"
    with pytest.raises(GraphOnlyError, match=match):
        ir_from_onnx(model)


def test_declared_length_must_match_the_shape() -> None:
    model = decoder_graph_only(16, 8, 1, 8)
    model.graph.initializer[1].external_data.add(key="length", value="12")
    with pytest.raises(GraphOnlyError, match=r"'w0_0' declares length='12'.*256 bytes"):
        ir_from_onnx(model)


def test_reference_with_inline_data_is_refused() -> None:
    model = decoder_graph_only(16, 8, 1, 8)
    model.graph.initializer[1].raw_data = b"\x00" * 256
    with pytest.raises(GraphOnlyError, match="holds inline data"):
        ir_from_onnx(model)
