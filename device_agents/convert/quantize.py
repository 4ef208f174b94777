"""Full-integer (int8) quantisation of a lowered graph, calibrated with onnxruntime.

* Activations: asymmetric per-tensor int8, range = min/max over ``samples`` random standard-normal
  inputs (the range always includes 0). Operators that must keep their input's parameters
  (RESHAPE, TRANSPOSE, PAD, pooling, CONCATENATION) share one range over all their tensors.
  SOFTMAX / LOGISTIC outputs are fixed to scale 1/256, zero point -128; TANH to 1/128, 0.
* Convolution weights: symmetric per-output-channel int8 in [-127, 127]; fully-connected weights
  symmetric per-tensor; biases int32 with scale = input scale x weight scale.
* Constant operands of ADD / MUL: asymmetric per-tensor int8.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from device_agents.convert.ir import Graph, Quant, Tensor
from device_agents.onnx_inputs import random_inputs

SHARED = {
    "RESHAPE",
    "TRANSPOSE",
    "PAD",
    "PADV2",
    "MAX_POOL_2D",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "SPLIT",
}
FIXED = {
    "SOFTMAX": (1.0 / 256.0, -128),
    "LOGISTIC": (1.0 / 256.0, -128),
    "TANH": (1.0 / 128.0, 0),
}
MIN_SCALE = 1e-5  # a dead activation (all zeros on calibration) still gets a usable scale
INT32 = np.iinfo(np.int32)
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3}


def calibrate(model: onnx.ModelProto, samples: int = 8) -> dict[str, tuple[float, float]]:
    """Run the float model on random inputs and return each tensor's (min, max)."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in known:
                probe.graph.output.append(onnx.ValueInfoProto(name=name))
                known.add(name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(probe.SerializeToString(), options, ["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    ranges: dict[str, tuple[float, float]] = {}
    for seed in range(samples):
        feed = random_inputs(model, seed=seed)
        outputs = dict(zip(names, session.run(None, feed), strict=True))
        outputs.update(feed)
        for name, value in outputs.items():
            lo, hi = float(np.min(value)), float(np.max(value))
            old = ranges.get(name, (lo, hi))
            ranges[name] = (min(old[0], lo), max(old[1], hi))
    return ranges


def _activation_quant(lo: float, hi: float) -> Quant:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, MIN_SCALE)
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    return Quant(np.array([scale], np.float32), np.array([zero_point], np.int64))


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        while self.parent.get(x, x) != x:
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _assign_activations(graph: Graph, ranges: dict[str, tuple[float, float]]) -> None:
    groups = _Groups()
    fixed: dict[str, tuple[float, int]] = {}
    for op in graph.operators:
        if op.opcode in SHARED:
            for name in [*op.inputs, *op.outputs[1:]]:
                if graph.tensors[name].data is None:
                    groups.union(name, op.outputs[0])
        if op.opcode in FIXED:
            fixed[op.outputs[0]] = FIXED[op.opcode]
    members: dict[str, list[Tensor]] = {}
    for tensor in graph.tensors.values():
        if tensor.data is None:
            members.setdefault(groups.find(tensor.name), []).append(tensor)
    for tensors in members.values():
        pinned = [fixed[t.name] for t in tensors if t.name in fixed]
        if pinned:
            scale, zp = pinned[0]
            quant = Quant(np.array([scale], np.float32), np.array([zp], np.int64))
        else:
            spans = [t.known_range or ranges.get(t.source or t.name, (0.0, 1.0)) for t in tensors]
            quant = _activation_quant(min(s[0] for s in spans), max(s[1] for s in spans))
        for tensor in tensors:
            tensor.quant, tensor.dtype = quant, "int8"


def _quantize(data: np.ndarray, quant: Quant, low: int = -128) -> np.ndarray:
    shape = [1] * data.ndim
    if quant.scale.size > 1:
        shape[quant.axis] = -1
    scale = quant.scale.reshape(shape)
    zp = quant.zero_point.reshape(shape)
    return np.clip(np.round(data / scale) + zp, low, 127).astype(np.int8)


def _symmetric(data: np.ndarray, axis: int | None) -> Quant:
    if axis is None:
        peak = np.array([np.abs(data).max()])
    else:
        peak = np.abs(np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)).max(axis=1)
    scale = np.maximum(peak / 127.0, 1e-12).astype(np.float32)
    return Quant(scale, np.zeros(scale.size, np.int64), axis or 0)


def quantize_graph(graph: Graph, ranges: dict[str, tuple[float, float]]) -> None:
    """Quantise ``graph`` in place (activations int8, weights int8, biases int32)."""
    _assign_activations(graph, ranges)
    for op in graph.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            source, weight, bias = (graph.tensors[n] for n in op.inputs)
            assert weight.data is not None and bias.data is not None and source.quant is not None
            weight.quant = _symmetric(weight.data, WEIGHT_AXIS.get(op.opcode))
            weight.data, weight.dtype = _quantize(weight.data, weight.quant, -127), "int8"
            bias_scale = (source.quant.scale * weight.quant.scale).astype(np.float32)
            bias.quant = Quant(bias_scale, np.zeros(bias_scale.size, np.int64), 0)
            bias.data = np.clip(np.round(bias.data / bias_scale), INT32.min, INT32.max)
            bias.data = bias.data.astype(np.int32)
            bias.dtype = "int32"
        elif op.opcode == "PADV2":  # the fill value takes the padded tensor's parameters
            fill, out = graph.tensors[op.inputs[2]], graph.tensors[op.outputs[0]]
            assert fill.data is not None and out.quant is not None
            fill.quant = out.quant  # the lowest float fill (before a max pool): the lowest int8
            low = -128 if float(fill.data.min()) < -1e30 else None
            data = (
                np.full(fill.data.shape, low, np.int8) if low else _quantize(fill.data, out.quant)
            )
            fill.data, fill.dtype = data, "int8"
        elif op.opcode in ("ADD", "MUL"):
            for name in op.inputs:
                tensor = graph.tensors[name]
                if tensor.data is not None and tensor.dtype == "float32":
                    data = tensor.data
                    tensor.quant = _activation_quant(float(data.min()), float(data.max()))
                    tensor.data, tensor.dtype = _quantize(data, tensor.quant), "int8"
