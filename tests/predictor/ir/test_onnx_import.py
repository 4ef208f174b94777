"""ir_from_onnx on hand-built models: errors, memory, unknown ops, JSON, canonical forms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from predictor.errors import (
    DynamicShapeError,
    EmptyGraphError,
    ExternalDataError,
    InvalidModelError,
    ModelTooLargeError,
    NotOnnxError,
    TruncatedModelError,
)
from predictor.ir import GraphIR, ir_from_onnx

from .models import branch_model, conv_model, custom_op_model


def test_accepts_bytes_path_and_proto(tmp_path: Path) -> None:
    model = conv_model()
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    graphs = [ir_from_onnx(model), ir_from_onnx(model.SerializeToString()), ir_from_onnx(path)]
    assert graphs[0] == graphs[1] == graphs[2]
    assert ir_from_onnx(str(path)) == graphs[0]
    assert graphs[0].macs == 4 * 8 * 8 * 3 * 9
    assert graphs[0].op_counts == {"Conv": 1, "Relu": 1}
    conv = graphs[0].nodes[0]
    assert conv.attr_dict == {
        "kernel_shape": (3, 3),
        "strides": (1, 1),
        "pads": (1, 1, 1, 1),
        "dilations": (1, 1),
        "groups": 1,
    }


def test_peak_activation_memory_of_branch() -> None:
    graph = ir_from_onnx(branch_model())
    # 64-byte tensors; while Tanh runs a, b, c are live; while Add runs b, c, y are live.
    assert graph.peak_activation_bytes == 3 * 64
    assert [n.op_type for n in graph.nodes] == ["Relu", "Sigmoid", "Tanh", "Add"]
    assert graph.edges == ((0, 1), (0, 2), (1, 3), (2, 3))


def test_peak_activation_memory_of_chain() -> None:
    graph = ir_from_onnx(conv_model())
    # Conv step: x (768 B) + h (1024 B); Relu step: h + y (2048 B).
    assert graph.peak_activation_bytes == 2048


def test_unknown_custom_op_is_kept_and_listed() -> None:
    graph = ir_from_onnx(custom_op_model())
    assert graph.unknown_ops == ("com.example.MyOp",)
    custom = graph.nodes[1]
    assert custom.op_type == "com.example.MyOp"
    assert custom.outputs[0].shape == (1, 6)
    assert custom.macs == custom.flops == 0
    assert custom.attr("alpha") == 0.5


def test_unknown_custom_op_without_shape_does_not_crash() -> None:
    graph = ir_from_onnx(custom_op_model(with_shape=False))
    assert graph.unknown_ops == ("com.example.MyOp",)
    assert graph.num_nodes == 3


def test_json_round_trip() -> None:
    graph = ir_from_onnx(conv_model())
    again = GraphIR.from_json(graph.to_json())
    assert again == graph
    assert again.summary() == graph.summary()


def test_not_onnx() -> None:
    with pytest.raises(NotOnnxError, match="not an ONNX model"):
        ir_from_onnx(b"PK\x03\x04 this is a zip file")
    with pytest.raises(NotOnnxError, match="empty"):
        ir_from_onnx(b"")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(NotOnnxError, match=r"nope\.onnx"):
        ir_from_onnx(tmp_path / "nope.onnx")


def test_truncated() -> None:
    data = conv_model().SerializeToString()
    with pytest.raises((TruncatedModelError, InvalidModelError, EmptyGraphError)):
        ir_from_onnx(data[: len(data) // 2])
    with pytest.raises(TruncatedModelError):
        ir_from_onnx(data[:-3])


def test_empty_graph() -> None:
    graph = helper.make_graph(
        [], "empty", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]
    )
    with pytest.raises(EmptyGraphError, match="no nodes"):
        ir_from_onnx(helper.make_model(graph))


def test_external_initializer_is_a_graph_only_model() -> None:
    model = conv_model()
    expected = ir_from_onnx(model)
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    del tensor.float_data[:]
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "weights.bin"  # absent: never opened
    assert ir_from_onnx(model) == expected


def test_external_data_in_a_constant_node_is_refused() -> None:
    model = conv_model()
    value = numpy_helper.from_array(np.zeros(4, np.float32), "c")
    value.ClearField("raw_data")
    value.data_location = TensorProto.EXTERNAL
    value.external_data.add(key="location", value="c.bin")
    model.graph.node.insert(0, helper.make_node("Constant", [], ["c"], value=value))
    with pytest.raises(ExternalDataError, match="only top-level initializers"):
        ir_from_onnx(model)


def test_dynamic_shape_needs_input_shapes() -> None:
    model = conv_model(batch="N")
    with pytest.raises(DynamicShapeError, match=r"'x'.*'N'"):
        ir_from_onnx(model)
    graph = ir_from_onnx(model, input_shapes={"x": (2, 3, 8, 8)})
    assert graph.inputs[0].shape == (2, 3, 8, 8)
    assert graph.macs == 2 * 4 * 8 * 8 * 3 * 9


def test_bad_input_shapes_name_the_problem() -> None:
    with pytest.raises(DynamicShapeError, match=r"'y'.*\['x'\]"):
        ir_from_onnx(conv_model(batch="N"), input_shapes={"y": (1, 3, 8, 8)})
    with pytest.raises(DynamicShapeError, match="rank 2"):
        ir_from_onnx(conv_model(batch="N"), input_shapes={"x": (1, 3)})


def test_too_large() -> None:
    data = conv_model().SerializeToString()
    with pytest.raises(ModelTooLargeError, match=f"{len(data)} bytes"):
        ir_from_onnx(data, max_bytes=100)


def test_invalid_graph() -> None:
    model = conv_model()
    model.graph.node[1].input[0] = "does_not_exist"
    with pytest.raises(InvalidModelError):
        ir_from_onnx(model)
    bad_weight = conv_model()
    bad_weight.graph.initializer[0].CopyFrom(
        numpy_helper.from_array(np.zeros((4, 5, 3, 3), np.float32), "w")
    )
    with pytest.raises(InvalidModelError):
        ir_from_onnx(bad_weight)


def test_caller_model_is_not_modified() -> None:
    model = conv_model(batch="N")
    before = model.SerializeToString()
    ir_from_onnx(model, input_shapes={"x": (1, 3, 8, 8)})
    assert model.SerializeToString() == before


def _linear_model(form: str) -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(8, 5)).astype(np.float32)  # (K, N)
    b = rng.normal(size=(5,)).astype(np.float32)
    if form == "gemm":
        inits = [numpy_helper.from_array(w.T.copy(), "w"), numpy_helper.from_array(b, "b")]
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    else:
        inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
        nodes = [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Add", ["b", "h"], ["y"]),
        ]
    graph = helper.make_graph(
        nodes,
        form,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 5])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_gemm_and_matmul_plus_add_are_one_canonical_gemm() -> None:
    gemm, matmul = ir_from_onnx(_linear_model("gemm")), ir_from_onnx(_linear_model("matmul"))
    assert gemm == matmul
    assert gemm.op_counts == {"Gemm": 1}
    assert gemm.macs == 3 * 5 * 8
    assert gemm.params == 8 * 5 + 5


def _pool_model(kind: str) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    if kind == "gap":
        nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"])]
        nodes.append(helper.make_node("Flatten", ["p"], ["y"]))
    else:
        nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)]
    axes = [numpy_helper.from_array(np.array([-2, -1], np.int64), "axes")] if kind != "gap" else []
    graph = helper.make_graph(nodes, kind, [x], [y], axes)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_reduce_mean_over_spatial_axes_is_global_average_pool() -> None:
    gap, reduce = ir_from_onnx(_pool_model("gap")), ir_from_onnx(_pool_model("reduce"))
    assert gap == reduce
    assert [n.op_type for n in gap.nodes] == ["GlobalAveragePool", "Reshape"]
    assert gap.outputs[0].shape == (1, 4)


def test_shape_subgraph_folds_to_nothing() -> None:
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape (exporter style) folds to one Reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node(
            "Constant", [], ["i0"], value=numpy_helper.from_array(np.array(0, np.int64))
        ),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node(
            "Constant", [], ["ax"], value=numpy_helper.from_array(np.array([0], np.int64))
        ),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node(
            "Constant", [], ["m1"], value=numpy_helper.from_array(np.array([-1], np.int64))
        ),
        helper.make_node("Concat", ["n1", "m1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Identity", ["r"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "shapes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 12])],
    )
    ir = ir_from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [n.op_type for n in ir.nodes] == ["Reshape"]
    assert ir.outputs[0].shape == (2, 12)
    assert ir.params == 0


def test_repeated_weight_free_nodes_collapse() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Relu", ["x"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "cse",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    ir = ir_from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [n.op_type for n in ir.nodes] == ["Relu", "Add"]
    assert ir.edges == ((0, 1), (0, 1))


def _padded_conv(**attrs: object) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], **attrs)],
        "pad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 7, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_auto_pad_becomes_explicit_pads() -> None:
    auto = ir_from_onnx(_padded_conv(auto_pad="SAME_UPPER"))
    explicit = ir_from_onnx(_padded_conv(pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
    assert auto == explicit
    assert auto.nodes[0].attr("pads") == (1, 1, 1, 1)


def test_control_flow_op_is_kept_as_unknown() -> None:
    then_graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["t"])],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 4])],
    )
    else_graph = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 4])],
    )
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"]),
        helper.make_node("If", ["c"], ["y"], then_branch=then_graph, else_branch=else_graph),
    ]
    graph = helper.make_graph(
        nodes,
        "if",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "zero")],
    )
    ir = ir_from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert ir.unknown_ops == ("If",)
    assert [n.op_type for n in ir.nodes] == ["ReduceSum", "Greater", "If"]
