"""Random inputs for an ONNX model, shaped after its graph inputs (free dimensions -> 1)."""

from __future__ import annotations

import numpy as np
import onnx

_NP_TYPES: dict[int, type] = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.BOOL: np.bool_,
}


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """Return the real inputs of the graph (those that are not initializers)."""
    initializers = {init.name for init in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def input_shape(value: onnx.ValueInfoProto) -> tuple[int, ...]:
    """Return the static shape of an input, with free or symbolic dimensions set to 1."""
    dims = value.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in dims)


def random_inputs(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw one random feed for the model (standard normal floats, small integers).

    Args:
        model: The model.
        seed: Seed of the generator.

    Returns:
        Input name -> array.

    Raises:
        ValueError: An input has an element type no backend feeds.
    """
    rng = np.random.default_rng(seed)
    feed: dict[str, np.ndarray] = {}
    for value in graph_inputs(model):
        elem = value.type.tensor_type.elem_type
        if elem not in _NP_TYPES:
            raise ValueError(f"input {value.name!r} has unsupported element type {elem}")
        dtype = _NP_TYPES[elem]
        shape = input_shape(value)
        if np.issubdtype(dtype, np.floating):
            feed[value.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feed[value.name] = rng.integers(0, 2, size=shape).astype(dtype)
    return feed
