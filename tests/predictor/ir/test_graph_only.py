"""Graph-only models: absent external weights, exact static features, named errors."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from predictor.errors import GraphOnlyError
from predictor.ir import ir_from_onnx
from predictor.ir.graph_only import STRIPPED_LOCATION, is_graph_only, strip

from .models import conv_model, decoder_graph_only, external_reference


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
        (external_reference("w", [8, 8], dtype=999), "data_type=999"),
        (external_reference("w", [8, 8], dtype=TensorProto.STRING), "string tensor"),
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
