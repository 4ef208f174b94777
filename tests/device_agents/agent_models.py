"""Small real ONNX models for the agent tests, built with ``onnx.helper`` (opset 17).

They use the operators of the search spaces: Conv (regular, depthwise, pointwise), Relu, Clip
(ReLU6), HardSwish, Sigmoid, Mul (squeeze-excite), Add (residual), Concat, MaxPool, AveragePool,
Pad, GlobalAveragePool, Flatten, Gemm, Softmax.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Graph:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, array: np.ndarray, prefix: str = "w") -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: object) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1) -> str:
        w = self.rng.standard_normal((cout, cin // group, k, k)).astype(np.float32)
        w *= np.sqrt(2.0 / (cin // group * k * k))
        b = (0.1 * self.rng.standard_normal(cout)).astype(np.float32)
        pad = k // 2
        return self.op(
            "Conv",
            [x, self.const(w), self.const(b, "b")],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[pad] * 4,
            group=group,
        )

    def relu6(self, x: str) -> str:
        lo = self.const(np.array(0.0, np.float32), "lo")
        hi = self.const(np.array(6.0, np.float32), "hi")
        return self.op("Clip", [x, lo, hi])

    def model(self, x_shape: list[int], out: str, out_shape: list[int]) -> bytes:
        graph = helper.make_graph(
            self.nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model.SerializeToString()


def small_cnn(seed: int = 0, width: int = 8, resolution: int = 32) -> bytes:
    """Conv-ReLU, depthwise-ReLU6, pointwise, residual Add, GAP, Flatten, Gemm, Softmax."""
    g = _Graph(seed)
    x = g.op("Relu", [g.conv("x", 3, width, 3, stride=2)])
    y = g.relu6(g.conv(x, width, width, 3, group=width))
    y = g.conv(y, width, width, 1)
    x = g.op("Add", [x, y])
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    w = g.const((0.3 * g.rng.standard_normal((10, width))).astype(np.float32))
    b = g.const(np.zeros(10, np.float32), "b")
    x = g.op("Softmax", [g.op("Gemm", [x, w, b], transB=1)], axis=1)
    return g.model([1, 3, resolution, resolution], x, [1, 10])


def mobile_cnn(seed: int = 1, width: int = 8, resolution: int = 32) -> bytes:
    """Pad, MaxPool, HardSwish, squeeze-excite (Sigmoid, Mul), Concat, AveragePool, Gemm."""
    g = _Graph(seed)
    pads = g.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")
    x = g.op("Pad", ["x", pads])
    x = g.op("HardSwish", [g.conv(x, 3, width, 3, stride=2)])
    x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    se = g.op("GlobalAveragePool", [x])
    se = g.op("Relu", [g.conv(se, width, width // 2, 1)])
    se = g.op("Sigmoid", [g.conv(se, width // 2, width, 1)])
    x = g.op("Mul", [x, se])
    a = g.op("Relu", [g.conv(x, width, width, 1)])
    b = g.op("HardSwish", [g.conv(x, width, width, 3, group=width)])
    x = g.op("Concat", [a, b], axis=1)
    x = g.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    w = g.const((0.3 * g.rng.standard_normal((5, 2 * width))).astype(np.float32))
    x = g.op("Gemm", [x, w, g.const(np.zeros(5, np.float32), "b")], transB=1)
    return g.model([1, 3, resolution, resolution], x, [1, 5])


def repeated_cnn(seed: int = 4, width: int = 8, resolution: int = 16) -> bytes:
    """A stem conv, three identical 3x3 conv + ReLU cells (own weights), GAP, Flatten, Gemm."""
    g = _Graph(seed)
    x = g.op("Relu", [g.conv("x", 3, width, 3)])
    for _ in range(3):
        x = g.op("Relu", [g.conv(x, width, width, 3)])
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    w = g.const((0.3 * g.rng.standard_normal((10, width))).astype(np.float32))
    b = g.const(np.zeros(10, np.float32), "b")
    return g.model([1, 3, resolution, resolution], g.op("Gemm", [x, w, b], transB=1), [1, 10])


def erf_model() -> bytes:
    """A convolution followed by Erf: onnxruntime runs it, the int8 converter does not."""
    g = _Graph(2)
    x = g.op("Erf", [g.conv("x", 3, 4, 3)])
    return g.model([1, 3, 8, 8], x, [1, 4, 8, 8])


def custom_op_model() -> bytes:
    """A model with an operator of an unknown domain: no backend can run it."""
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="org.example", name="frob")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("org.example", 1)]
    )
    model.ir_version = 8
    return model.SerializeToString()


def flatten_model(seed: int = 3) -> bytes:
    """Conv, BatchNormalization, Flatten of a 4x4 map (NCHW order matters), Gemm, Tanh."""
    g = _Graph(seed)
    x = g.conv("x", 3, 4, 3, stride=2)
    c = 4
    bn = [
        g.const(v.astype(np.float32), "bn")
        for v in (
            1 + 0.1 * g.rng.standard_normal(c),
            0.1 * g.rng.standard_normal(c),
            0.1 * g.rng.standard_normal(c),
            1 + 0.1 * g.rng.random(c),
        )
    ]
    x = g.op("Relu", [g.op("BatchNormalization", [g.op("Relu", [x]), *bn])])
    x = g.op("Flatten", [x], axis=1)
    w = g.const((0.2 * g.rng.standard_normal((6, 4 * 4 * 4))).astype(np.float32))
    x = g.op("Tanh", [g.op("Gemm", [x, w, g.const(np.zeros(6, np.float32), "b")], transB=1)])
    return g.model([1, 3, 8, 8], x, [1, 6])


def grouped_conv_model() -> bytes:
    """A grouped (not depthwise) convolution: outside the converter's subset."""
    g = _Graph(4)
    x = g.conv("x", 4, 8, 3, group=2)
    return g.model([1, 4, 8, 8], x, [1, 8, 8, 8])
