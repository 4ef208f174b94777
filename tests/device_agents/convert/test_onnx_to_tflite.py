"""The ONNX -> TFLite converter: float32 is exact, int8 is close, unsupported ops are named."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from agent_models import (
    erf_model,
    flatten_model,
    grouped_conv_model,
    mobile_cnn,
    small_cnn,
)

from device_agents.backends.base import UnsupportedModelError

litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert not installed")
tflite = pytest.importorskip("ai_edge_litert.schema_py_generated", reason="no ai-edge-litert")

from device_agents.convert import onnx_to_tflite  # noqa: E402 - needs ai-edge-litert

MODELS = {
    "small_cnn": small_cnn,
    "mobile_cnn": mobile_cnn,
    "flatten": flatten_model,
    "grouped": grouped_conv_model,
}


def _run_tflite(data: bytes, x_nchw: np.ndarray) -> np.ndarray:
    interpreter = litert.Interpreter(model_content=data)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = x_nchw.transpose(0, 2, 3, 1)
    if inp["dtype"] == np.int8:
        scale, zp = inp["quantization"]
        x = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    y = interpreter.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zp = out["quantization"]
        y = (y.astype(np.float32) - zp) * scale
    return np.asarray(y.transpose(0, 3, 1, 2) if y.ndim == 4 else y)  # back to NCHW


def _reference(onnx_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in first.shape]
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    return x, session.run(None, {first.name: x})[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float32_matches_onnxruntime(name: str) -> None:
    onnx_bytes = MODELS[name]()
    x, ref = _reference(onnx_bytes)
    model = onnx_to_tflite(onnx_bytes, int8=False)
    np.testing.assert_allclose(_run_tflite(model.data, x), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_int8_is_close_to_float_and_fully_integer(name: str) -> None:
    onnx_bytes = MODELS[name]()
    x, ref = _reference(onnx_bytes)
    model = onnx_to_tflite(onnx_bytes, int8=True)
    err = np.abs(_run_tflite(model.data, x) - ref).max()
    assert err <= 0.1 * np.abs(ref).max() + 1e-3, err
    parsed = tflite.Model.GetRootAsModel(model.data, 0).Subgraphs(0)
    types = {parsed.Tensors(i).Type() for i in range(parsed.TensorsLength())}
    assert types <= {tflite.TensorType.INT8, tflite.TensorType.INT32}
    assert parsed.Tensors(parsed.Inputs(0)).Type() == tflite.TensorType.INT8


def test_operator_mapping_of_the_mobile_block() -> None:
    ops = onnx_to_tflite(mobile_cnn(), int8=True).operators
    for op in (
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "HARD_SWISH",
        "LOGISTIC",
        "MUL",
        "MEAN",
        "CONCATENATION",
        "MAX_POOL_2D",
        "AVERAGE_POOL_2D",
        "FULLY_CONNECTED",
        "PAD",
    ):
        assert op in ops
    flat = onnx_to_tflite(flatten_model(), int8=False).operators
    assert "TRANSPOSE" in flat  # NHWC -> NCHW before flattening a 4x4 map
    assert "BatchNormalization" not in flat


def test_grouped_convolution_is_split_per_group() -> None:
    ops = onnx_to_tflite(grouped_conv_model(), int8=True).operators
    assert ops.count("CONV_2D") == 2 and "SPLIT" in ops and "CONCATENATION" in ops


def test_unsupported_operator_is_named() -> None:
    with pytest.raises(UnsupportedModelError, match=r"operator Erf \(node 'erf\d+_node'\)"):
        onnx_to_tflite(erf_model(), int8=True)


def test_search_space_models_convert_exactly() -> None:
    spaces = pytest.importorskip("predictor.spaces.registry", reason="predictor spaces missing")
    import random

    for name in ("kws", "fbnet"):  # fbnet: grouped convolutions and channel shuffles
        space = spaces.get_space(name)
        onnx_bytes = space.to_onnx(space.sample(random.Random(0)))
        x, ref = _reference(onnx_bytes)
        got = _run_tflite(onnx_to_tflite(onnx_bytes, int8=False).data, x)
        np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-3, atol=1e-5)
        q = _run_tflite(onnx_to_tflite(onnx_bytes, int8=True).data, x).reshape(ref.shape)
        assert np.corrcoef(q.ravel(), ref.ravel())[0, 1] > 0.99


def test_padded_pools_convert_exactly() -> None:
    """MaxPool 3x3/2 pad 1 (PADV2 with the lowest value) and a count-include-pad AveragePool
    (zero PAD, VALID) are exact in float32 and close in int8."""
    spaces = pytest.importorskip("predictor.spaces.registry", reason="predictor spaces missing")
    space = spaces.get_space("shufflenet")
    spec = {"base": 48, "classes": 10, "depths": [1, 1], "groups": 2, "kernel": 3, "resolution": 32}
    onnx_bytes = space.to_onnx(spec)
    ops = onnx_to_tflite(onnx_bytes, int8=False).operators
    assert "PADV2" in ops and "MAX_POOL_2D" in ops and "AVERAGE_POOL_2D" in ops
    x, ref = _reference(onnx_bytes)
    got = _run_tflite(onnx_to_tflite(onnx_bytes, int8=False).data, x)
    np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-3, atol=1e-5)
    q = _run_tflite(onnx_to_tflite(onnx_bytes, int8=True).data, x).reshape(ref.shape)
    assert np.corrcoef(q.ravel(), ref.ravel())[0, 1] > 0.98
