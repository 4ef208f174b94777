"""The SearchSpace contract, checked for every registered space."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from predictor.ir import GraphIR
from predictor.ir.onnx_import import ir_from_onnx
from predictor.spaces import SPACES, get_space


@pytest.mark.parametrize("name", SPACES)
def test_sample_validate_encode_to_ir(name: str) -> None:
    space = get_space(name)
    for seed in range(4):
        spec = space.sample(random.Random(seed))
        assert space.sample(random.Random(seed)) == spec  # seeded = reproducible
        space.validate(spec)
        json.dumps(spec)  # JSON-serialisable
        text = space.encode(spec)
        assert space.decode(text) == spec
        assert space.encode(space.decode(text)) == text
        ir = space.to_ir(spec)
        assert isinstance(ir, GraphIR)
        assert ir.macs > 0 and ir.params > 0 and ir.num_nodes > 0
        assert not ir.unknown_ops
        assert ir.inputs[0].shape == space.input_shape(spec)
        assert ir.inputs[0].shape[0] == 1


@pytest.mark.parametrize("name", SPACES)
def test_samples_vary(name: str) -> None:
    space = get_space(name)
    rng = random.Random(123)
    encodings = {space.encode(space.sample(rng)) for _ in range(10)}
    assert len(encodings) > 5


@pytest.mark.parametrize("name", SPACES)
def test_build_forward_and_export_both_exporters(
    name: str, pick_small: Callable[..., list[Any]]
) -> None:
    space = get_space(name)
    (spec,) = pick_small(space, 1, seed=1)
    model = space.build(spec)
    assert not model.training
    xs = space.example_inputs(spec)
    with torch.no_grad():
        y1, y2 = _first(model(*xs)), _first(space.build(spec)(*xs))
    assert torch.isfinite(y1).all()
    assert torch.equal(y1, y2)  # weights are seeded inside build
    expected = space.to_ir(spec)
    for dynamo in (False, True):
        data = space.to_onnx(spec, dynamo=dynamo)
        proto = onnx.load_from_string(data)
        onnx.checker.check_model(proto, full_check=True)
        assert proto.opset_import[0].version >= 17
        assert not any(
            t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer
        )
        dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
        assert tuple(dims) == space.input_shape(spec)
        assert ir_from_onnx(data) == expected  # both exporters give the spec's IR
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs, strict=True)}
        ort_out = session.run(None, feeds)[0]
        np.testing.assert_allclose(ort_out, y1.numpy(), rtol=1e-3, atol=1e-4)


def _first(out: Any) -> torch.Tensor:
    """The first output of a network (decoders with a KV cache return several)."""
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", [n for n in SPACES if n not in ("nasbench201", "fbnet")])
def test_family_to_ir_equals_imported_onnx(name: str, pick_small: Callable[..., list[Any]]) -> None:
    space = get_space(name)
    for spec in pick_small(space, 2, seed=7):
        assert space.to_ir(spec) == ir_from_onnx(space.to_onnx(spec)), space.encode(spec)


@pytest.mark.parametrize("name", SPACES)
def test_manifest_is_json(name: str) -> None:
    manifest = get_space(name).manifest()
    assert manifest["name"] == name
    json.dumps(manifest)
