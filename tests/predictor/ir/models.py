"""Tiny hand-built ONNX models (onnx.helper) for the importer tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(graph: onnx.GraphProto, opset: int = 17, **kwargs: object) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], **kwargs)  # type: ignore[arg-type]
    model.ir_version = 8
    return model


def branch_model() -> onnx.ModelProto:
    """x -> Relu -> a; a -> Sigmoid -> b; a -> Tanh -> c; Add(b, c) -> y on 1x1x4x4 floats."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["b"]),
        helper.make_node("Tanh", ["a"], ["c"]),
        helper.make_node("Add", ["b", "c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "branch",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
    )
    return _model(graph)


def conv_model(batch: int | str = 1) -> onnx.ModelProto:
    """Conv(3->4, 3x3, pad 1) -> Relu on an 8x8 input; ``batch`` may be symbolic."""
    weight = numpy_helper.from_array(
        np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32), "w"
    )
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4, 8, 8])],
        [weight],
    )
    return _model(graph)


def custom_op_model(with_shape: bool = True) -> onnx.ModelProto:
    """Relu -> com.example.MyOp -> Relu; MyOp's output shape given in value_info or not."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("MyOp", ["a"], ["b"], domain="com.example", alpha=0.5),
        helper.make_node("Relu", ["b"], ["y"]),
    ]
    value_info = (
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 6])] if with_shape else []
    )
    graph = helper.make_graph(
        nodes,
        "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        value_info=value_info,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    model.ir_version = 8
    return model


def external_reference(name: str, dims: list[int], dtype: int = TensorProto.FLOAT) -> TensorProto:
    """An initializer whose data claims to live in a file that is not there."""
    tensor = TensorProto(name=name, data_type=dtype, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="absent.bin")
    return tensor


def decoder_graph_only(vocab: int, dim: int, layers: int, ffn: int) -> onnx.ModelProto:
    """A decode-step-shaped chain: embedding Gather, per layer q/k/v/o and a 3-matrix FFN
    (MatMuls with absent weights), an LM head; every weight an external reference."""
    nodes = [helper.make_node("Gather", ["embed", "ids"], ["h0"], axis=0)]
    weights = [external_reference("embed", [vocab, dim])]
    x = "h0"
    for i in range(layers):
        shapes = [(dim, dim)] * 4 + [(dim, ffn), (dim, ffn), (ffn, dim)]
        for j, (k, n) in enumerate(shapes):
            name = f"w{i}_{j}"
            weights.append(external_reference(name, [k, n]))
            if j == 6:
                nodes.append(helper.make_node("Mul", [f"m{i}_4", f"m{i}_5"], [f"g{i}"]))
            source = x if j < 6 else f"g{i}"
            nodes.append(helper.make_node("MatMul", [source, name], [f"m{i}_{j}"]))
        total = [f"m{i}_{j}" for j in (0, 1, 2, 3, 6)]
        nodes.append(helper.make_node("Sum", [x, *total], [f"h{i + 1}"]))
        x = f"h{i + 1}"
    weights.append(external_reference("head", [dim, vocab]))
    nodes.append(helper.make_node("MatMul", [x, "head"], ["logits"]))
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 1])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, vocab])
    graph = helper.make_graph(nodes, "decoder", [ids], [out], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
