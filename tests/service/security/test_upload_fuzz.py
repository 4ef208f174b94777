"""Malformed, truncated, oversized and bomb-like ONNX uploads: always a 4xx, memory bounded."""

from __future__ import annotations

import random
import resource

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper

from tests.service.factories import tiny_onnx


def _model(nodes: list[onnx.NodeProto], inputs: list, outputs: list, inits: list) -> bytes:  # type: ignore[type-arg]
    graph = helper.make_graph(nodes, "fuzz", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def huge_constant_of_shape() -> bytes:
    """A few hundred bytes declaring a 10^12-element tensor."""
    shape = numpy_helper.from_array(np.array([10**6, 10**6], dtype=np.int64), "shape")
    node = helper.make_node("ConstantOfShape", ["shape"], ["y"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])  # symbolic dims
    return _model([node], [], [out], [shape])


def huge_declared_input() -> bytes:
    """A Relu over an input declared as 10^15 elements."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [10**5, 10**5, 10**5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [10**5, 10**5, 10**5])
    return _model([helper.make_node("Relu", ["x"], ["y"])], [x], [y], [])


def deep_chain(depth: int = 5000) -> bytes:
    """A very long chain of Relu nodes."""
    x = helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info(f"t{depth}", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(depth)]
    return _model(nodes, [x], [y], [])


def nested_if(levels: int = 20) -> bytes:
    """Subgraphs nested ``levels`` deep (If inside If ...)."""
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    one = numpy_helper.from_array(np.ones(1, np.float32))
    constant = helper.make_node("Constant", [], ["y"], value=one)
    inner = helper.make_graph([constant], "leaf", [], [out])
    cond = numpy_helper.from_array(np.array(True), "c")
    leaf = inner
    for level in range(levels):  # else is the leaf: the size grows linearly, not 2**levels
        node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=leaf)
        inner = helper.make_graph([node], f"g{level}", [], [out], initializer=[cond])
    model = helper.make_model(inner, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _external(name: str, location: str) -> onnx.TensorProto:
    """A float tensor whose 4 values claim to live in the file ``location``."""
    tensor = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[4])
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    return tensor


def external_constant(location: str) -> bytes:
    """A Constant node whose value points at a file (read by constant folding if let through)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    constant = helper.make_node("Constant", [], ["c"], value=_external("c", location))
    return _model([constant, helper.make_node("Add", ["x", "c"], ["y"])], [x], [y], [])


def external_in_subgraph() -> bytes:
    """An If branch whose initializer lives in an external file (not a top-level initializer)."""
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    branch = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["y"])], "b", [], [out], [_external("w", "w.bin")]
    )
    cond = numpy_helper.from_array(np.array(True), "c")
    node = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
    return _model([node], [], [out], [cond])


def initializer_claiming(dims: list[int], raw: bytes) -> bytes:
    """An initializer declaring ``dims`` but carrying only ``raw``."""
    weight = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=dims, raw_data=raw)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a"] * len(dims))
    return _model([helper.make_node("Relu", ["w"], ["y"])], [], [out], [weight])


def expand_constant(op: str) -> bytes:
    """Expand or Tile of a one-element constant to 10^10 elements (constant-folding bomb)."""
    one = numpy_helper.from_array(np.ones((1, 1), np.float32), "one")
    shape = numpy_helper.from_array(np.array([10**5, 10**5], dtype=np.int64), "shape")
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])
    return _model([helper.make_node(op, ["one", "shape"], ["y"])], [], [out], [one, shape])


def recursive_function() -> bytes:
    """A model-local function that calls itself (unbounded inlining if let through)."""
    body = [helper.make_node("F", ["a"], ["b"], domain="local")]
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    function = helper.make_function("local", "F", ["a"], ["b"], body, opsets)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("F", ["x"], ["y"], domain="local")], "r", [x], [y])
    model = helper.make_model(graph, opset_imports=opsets, functions=[function])
    model.ir_version = 8
    return model.SerializeToString()


def counters_over_int64(dims: list[int], op: str = "MatMul") -> bytes:
    """A valid graph whose MACs or activation bytes overflow a BIGINT column."""
    names = ["x", "b"] if op == "MatMul" else ["x"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, dims) for n in names]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a"] * len(dims))
    return _model([helper.make_node(op, names, ["y"])], inputs, [out], [])


def cases() -> list[tuple[str, bytes]]:
    good = tiny_onnx()
    rng = random.Random(0)
    flipped = bytearray(good)
    for _ in range(40):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    return [
        ("garbage", bytes(rng.randrange(256) for _ in range(4096))),
        ("text", b"not an onnx model at all"),
        ("truncated-half", good[: len(good) // 2]),
        ("truncated-one", good[:-1]),
        ("bit-flipped", bytes(flipped)),
        ("zeros", b"\x00" * 10_000),
        ("huge-varint", b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f" + b"\x00" * 16),
        ("constant-of-shape-1e12", huge_constant_of_shape()),
        ("declared-1e15-input", huge_declared_input()),
        ("deep-chain-5000", deep_chain()),
        ("nested-if-20", nested_if()),
        ("oversized", b"\x08\x07" + b"\x00" * 1_100_000),
        ("external-absolute", external_constant("/etc/passwd")),
        ("external-traversal", external_constant("../../../../etc/passwd")),
        ("external-relative", external_constant("weights.bin")),
        ("external-in-subgraph", external_in_subgraph()),
        ("initializer-claims-1e12", initializer_claiming([10**6, 10**6], b"\x00" * 16)),
        ("expand-1e10", expand_constant("Expand")),
        ("tile-1e10", expand_constant("Tile")),
        ("recursive-function", recursive_function()),
        ("macs-1e21", counters_over_int64([10**7, 10**7])),  # was a 500 (BIGINT overflow)
        ("activation-bytes-over-int64", counters_over_int64([2**62], op="Relu")),
    ]


@pytest.mark.parametrize(("name", "data"), cases(), ids=[name for name, _ in cases()])
def test_bad_uploads_are_4xx_with_bounded_memory(
    client: TestClient, client_auth: dict[str, str], name: str, data: bytes
) -> None:
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for send in ("multipart", "raw"):
        if send == "multipart":
            kwargs: dict = {"files": {"file": ("m.onnx", data)}}  # type: ignore[type-arg]
        else:
            kwargs = {"content": data, "headers": {"Content-Type": "application/octet-stream"}}
        headers = {**client_auth, **kwargs.pop("headers", {})}
        response = client.post("/api/v1/models", headers=headers, **kwargs)
        assert 400 <= response.status_code < 500 or response.status_code in (200, 201), (
            name,
            response.status_code,
            response.text[:200],
        )
        assert response.status_code < 500
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    assert grown_mb < 500, f"{name}: peak RSS grew by {grown_mb:.0f} MB"
