"""Quantised models (onnxruntime quantize_static, QDQ and QOperator) map to the float IR's ops."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)

from predictor.ir import GraphIR, ir_from_onnx


def _float_model() -> onnx.ModelProto:
    """Conv -> Sigmoid -> depthwise Conv -> Add(residual) -> GAP -> Flatten -> Gemm."""
    rng = np.random.default_rng(0)

    def init(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1] * 4),
        helper.make_node("Sigmoid", ["c1"], ["s1"]),
        helper.make_node(
            "Conv", ["s1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4, group=8
        ),
        helper.make_node("Add", ["c2", "c1"], ["a"]),
        helper.make_node("GlobalAveragePool", ["a"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1),
    ]
    inits = [
        init("w1", 8, 3, 3, 3),
        init("b1", 8),
        init("w2", 8, 1, 3, 3),
        init("b2", 8),
        init("wf", 5, 8),
        init("bf", 5),
    ]
    graph = helper.make_graph(
        nodes,
        "float",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class _Calibration(CalibrationDataReader):
    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self._batches = iter(
            [{"x": rng.normal(size=(1, 3, 16, 16)).astype(np.float32)} for _ in range(4)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def _quantize(tmp_path: Path, quant_format: QuantFormat) -> tuple[GraphIR, GraphIR]:
    source, target = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    onnx.save(_float_model(), source)
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser logs advice at WARNING
    quantize_static(
        source,
        target,
        _Calibration(),
        quant_format=quant_format,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
    )
    assert any(n.op_type in ("QuantizeLinear", "QLinearConv") for n in onnx.load(target).graph.node)
    return ir_from_onnx(source), ir_from_onnx(target)


def test_qdq_model_maps_to_float_ops_with_int8_dtype(tmp_path: Path) -> None:
    float_ir, int8_ir = _quantize(tmp_path, QuantFormat.QDQ)
    assert [n.op_type for n in int8_ir.nodes] == [n.op_type for n in float_ir.nodes]
    assert int8_ir.unknown_ops == ()
    assert all(n.dtype == "int8" for n in int8_ir.nodes), [n.dtype for n in int8_ir.nodes]
    assert int8_ir.macs == float_ir.macs
    assert int8_ir.params == float_ir.params
    for float_node, int8_node in zip(float_ir.nodes, int8_ir.nodes, strict=True):
        if int8_node.op_type in ("Conv", "Gemm"):
            assert int8_node.weights[0].dtype == "int8"
            assert int8_node.weights[0].shape == float_node.weights[0].shape
    # weights take one byte per element (biases are int32)
    weight_elements = sum(
        n.weights[0].numel for n in int8_ir.nodes if n.op_type in ("Conv", "Gemm")
    )
    bias_elements = sum(n.weights[1].numel for n in int8_ir.nodes if n.op_type in ("Conv", "Gemm"))
    assert int8_ir.model_bytes == weight_elements + 4 * bias_elements
    assert float_ir.model_bytes == 4 * (weight_elements + bias_elements)


@pytest.mark.filterwarnings("ignore")
def test_qoperator_model_maps_to_float_ops(tmp_path: Path) -> None:
    float_ir, int8_ir = _quantize(tmp_path, QuantFormat.QOperator)
    assert [n.op_type for n in int8_ir.nodes] == [n.op_type for n in float_ir.nodes]
    assert int8_ir.unknown_ops == ()
    contractions = [n for n in int8_ir.nodes if n.op_type in ("Conv", "Gemm")]
    assert contractions and all(n.dtype == "int8" for n in contractions)
    assert all(n.weights[0].dtype == "int8" for n in contractions)
    assert int8_ir.macs == float_ir.macs
