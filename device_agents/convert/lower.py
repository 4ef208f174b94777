"""ONNX -> TFLite graph lowering (float32, NHWC). Quantisation happens afterwards.

Supported ONNX operators (after onnxruntime's basic optimiser has folded constants, fused Conv +
BatchNormalization and removed Identity / Dropout):

* Conv (2-D; regular, depthwise or grouped, any stride / dilation / padding) -> CONV_2D,
  DEPTHWISE_CONV_2D, or SPLIT + CONV_2D per group + CONCATENATION
* Gemm (alpha = beta = 1, transA = 0), MatMul with a constant 2-D weight -> FULLY_CONNECTED
* Add, Sub, Mul, Div (by a constant) -> ADD, MUL; BatchNormalization -> MUL + ADD
* Relu, Clip (0..6, 0..inf, -1..1) -> RELU / RELU6 / RELU_N1_TO_1 (fused into the producer when
  it is a Conv / Gemm / Add / Mul with one consumer)
* Sigmoid -> LOGISTIC, Tanh -> TANH, HardSwish (or x * HardSigmoid(x)) -> HARD_SWISH,
  HardSigmoid -> MUL + ADD (fused RELU6) + MUL, Softmax -> SOFTMAX
* MaxPool, AveragePool (SAME / VALID padding) -> MAX_POOL_2D, AVERAGE_POOL_2D
* GlobalAveragePool, ReduceMean over H, W -> MEAN
* Reshape, Flatten, Squeeze, Unsqueeze -> RESHAPE (+ TRANSPOSE when NCHW order matters)
* Concat -> CONCATENATION, Transpose -> TRANSPOSE, Pad (constant zero) -> PAD,
  Identity / Dropout -> removed

Anything else raises :class:`UnsupportedModelError` naming the operator and its node.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import onnx
import onnxruntime as ort

from device_agents.convert import lower_elementwise as ew
from device_agents.convert import lower_nn as nn
from device_agents.convert.context import LoweringContext
from device_agents.convert.ir import Graph
from device_agents.errors import UnsupportedModelError
from device_agents.onnx_inputs import graph_inputs

Lowerer = Callable[[LoweringContext, onnx.NodeProto], None]

LOWERERS: dict[str, Lowerer] = {
    "Conv": nn.lower_conv,
    "Gemm": nn.lower_gemm,
    "MatMul": nn.lower_gemm,
    "MaxPool": nn.lower_pool,
    "AveragePool": nn.lower_pool,
    "GlobalAveragePool": nn.lower_global_pool,
    "ReduceMean": nn.lower_global_pool,
    "Add": ew.lower_binary,
    "Sub": ew.lower_binary,
    "Mul": ew.lower_binary,
    "Div": ew.lower_binary,
    "BatchNormalization": ew.lower_batchnorm,
    "Relu": ew.lower_unary,
    "Clip": ew.lower_unary,
    "Sigmoid": ew.lower_unary,
    "Tanh": ew.lower_unary,
    "HardSwish": ew.lower_unary,
    "HardSigmoid": ew.lower_hard_sigmoid,
    "Softmax": ew.lower_softmax,
    "Reshape": ew.lower_reshape,
    "Flatten": ew.lower_reshape,
    "Squeeze": ew.lower_reshape,
    "Unsqueeze": ew.lower_reshape,
    "Concat": ew.lower_concat,
    "Transpose": ew.lower_transpose,
    "Pad": ew.lower_pad,
}
PASS_THROUGH = {"Identity", "Dropout"}
SUPPORTED_ONNX_OPS = sorted({*LOWERERS, *PASS_THROUGH})


def prepare_onnx(onnx_bytes: bytes) -> onnx.ModelProto:
    """Fold constants and fuse Conv + BatchNormalization with onnxruntime, then infer shapes.

    Raises:
        UnsupportedModelError: onnxruntime cannot load the model (the message names the op).
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    with tempfile.TemporaryDirectory(prefix="perfloop-convert-") as tmp:
        options.optimized_model_filepath = os.path.join(tmp, "basic.onnx")
        try:
            ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises untyped pybind errors
            raise UnsupportedModelError(f"onnxruntime cannot load the model: {exc}") from exc
        model = onnx.load(options.optimized_model_filepath)
    return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)


def lower_model(
    model: onnx.ModelProto, ranges: dict[str, tuple[float, float]] | None = None
) -> Graph:
    """Lower a prepared ONNX model to a float TFLite graph.

    Args:
        model: Output of :func:`prepare_onnx`.
        ranges: Calibrated tensor ranges (int8 conversion) for intermediates the lowering adds.

    Raises:
        UnsupportedModelError: An operator outside the subset above (named in the message).
    """
    ctx = LoweringContext(model, ranges)
    for value in graph_inputs(model):
        ctx.graph.inputs.append(ctx.activation(value.name))
    for node in model.graph.node:
        if node.output[0] in ctx.skip:
            continue
        if node.domain not in ("", "ai.onnx"):
            raise ctx.unsupported(node, f"of domain {node.domain!r} is not supported")
        if node.op_type in PASS_THROUGH:
            ctx.alias[node.output[0]] = ctx.name(node.input[0])
            continue
        if node.op_type not in LOWERERS:
            raise ctx.unsupported(node, "is not in the TFLite converter's operator subset")
        LOWERERS[node.op_type](ctx, node)
    for value in model.graph.output:
        ctx.graph.outputs.append(ctx.activation(value.name))
    return ctx.graph
