"""Seeded weights for graph-only models: same shapes and types, reproducible, recorded."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from agent_models import small_cnn

from device_agents.backends.base import UnsupportedModelError
from device_agents.graph_only import synthesize_weights
from predictor.ir.graph_only import strip


def test_self_contained_models_pass_through_untouched() -> None:
    data = small_cnn()
    assert synthesize_weights(data) == (data, None)


def test_stripped_model_runs_with_reproducible_weights_of_the_declared_shapes() -> None:
    original = onnx.load_from_string(small_cnn())
    stripped = strip(original, min_bytes=64).SerializeToString()
    data, record = synthesize_weights(stripped, seed=3)
    assert record is not None and record["seed"] == 3
    assert synthesize_weights(stripped, seed=3)[0] == data
    filled = onnx.load_from_string(data)
    shapes = {t.name: (tuple(t.dims), t.data_type) for t in original.graph.initializer}
    assert {t.name: (tuple(t.dims), t.data_type) for t in filled.graph.initializer} == shapes
    absent = {t.name for t in onnx.load_from_string(stripped).graph.initializer if t.external_data}
    sizes = {t.name: onnx.numpy_helper.to_array(t).nbytes for t in original.graph.initializer}
    assert record["tensors"] == len(absent) and record["bytes"] == sum(sizes[n] for n in absent)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (x,) = session.get_inputs()
    out = session.run(None, {x.name: np.ones([d or 1 for d in x.shape], np.float32)})
    assert np.isfinite(out[0]).all()


def test_reference_of_an_unknown_type_is_unsupported() -> None:
    model = strip(onnx.load_from_string(small_cnn()), min_bytes=64)
    next(t for t in model.graph.initializer if t.external_data).data_type = 999
    with pytest.raises(UnsupportedModelError, match="cannot synthesize"):
        synthesize_weights(model.SerializeToString())
