"""ONNX -> TFLite conversion (float32 or full int8), shared by the LiteRT, Ethos-U and TFLM
backends. See :mod:`device_agents.convert.lower` for the supported operator subset and
:mod:`device_agents.convert.quantize` for the quantisation scheme."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device_agents.convert.ir import Graph, Operator
from device_agents.convert.lower import SUPPORTED_ONNX_OPS, lower_model, prepare_onnx
from device_agents.convert.quantize import calibrate, quantize_graph
from device_agents.convert.writer import write_tflite

__all__ = ["SUPPORTED_ONNX_OPS", "OpStats", "TfliteModel", "onnx_to_tflite"]


@dataclass(frozen=True)
class OpStats:
    """Work of one TFLite operator (input to cycle models).

    Attributes:
        opcode: TFLite builtin operator name.
        onnx_node: ONNX node it came from.
        macs: Multiply-accumulates (convolutions and fully-connected layers; 0 otherwise).
        output_elements: Elements of its output tensor.
        input_elements: Elements of its activation inputs.
    """

    opcode: str
    onnx_node: str
    macs: int
    output_elements: int
    input_elements: int


def _op_stats(graph: Graph, op: Operator) -> OpStats:
    out = int(np.prod(graph.tensors[op.outputs[0]].shape))
    acts = [graph.tensors[n] for n in op.inputs if graph.tensors[n].data is None]
    inputs = sum(int(np.prod(t.shape)) for t in acts)
    macs = 0
    if op.opcode in ("CONV_2D", "FULLY_CONNECTED"):
        macs = out * int(np.prod(graph.tensors[op.inputs[1]].shape[1:]))
    elif op.opcode == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = graph.tensors[op.inputs[1]].shape
        macs = out * kh * kw
    return OpStats(op.opcode, op.onnx_node, macs, out, inputs)


@dataclass(frozen=True)
class TfliteModel:
    """A converted model.

    Attributes:
        data: TFLite flatbuffer bytes.
        int8: Whether it is fully int8 (int8 input and output).
        operators: TFLite builtin operator of each op, in execution order.
        onnx_nodes: ONNX node each op came from.
        op_stats: Work of each operator, in execution order.
    """

    data: bytes
    int8: bool
    operators: tuple[str, ...]
    onnx_nodes: tuple[str, ...]
    op_stats: tuple[OpStats, ...] = ()


def onnx_to_tflite(onnx_bytes: bytes, int8: bool, calibration_samples: int = 8) -> TfliteModel:
    """Convert an ONNX model to TFLite.

    Args:
        onnx_bytes: Serialised ONNX model.
        int8: Quantise fully to int8 (weights per channel, activations calibrated on random
            inputs with onnxruntime); otherwise keep float32.
        calibration_samples: Random inputs used for calibration.

    Returns:
        The converted model.

    Raises:
        UnsupportedModelError: An operator outside the converter's subset (named in the message).
    """
    model = prepare_onnx(onnx_bytes)
    ranges = calibrate(model, calibration_samples) if int8 else {}
    graph = lower_model(model, ranges)
    if int8:
        quantize_graph(graph, ranges)
    description = f"perfloop onnx->tflite {'int8' if int8 else 'float32'}"
    return TfliteModel(
        data=write_tflite(graph, description),
        int8=int8,
        operators=tuple(op.opcode for op in graph.operators),
        onnx_nodes=tuple(op.onnx_node for op in graph.operators),
        op_stats=tuple(_op_stats(graph, op) for op in graph.operators),
    )
