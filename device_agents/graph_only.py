"""Give a graph-only model (weights left out as external references) seeded random weights.

A graph-only upload keeps every shape and type but not the data; to run it, the agent fills each
absent initializer with seeded random values of its declared shape and type (normal * 0.02 for
floats, small integers otherwise) and records that it did, so the measurement says which
weights it ran on. Latency does not depend on weight values for dense float kernels; it can for
sparse or quantized runtimes, which is why the record is kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper

from device_agents.backends.base import UnsupportedModelError

#: A protobuf message (one ONNX file) holds at most 2 GiB.
MAX_SYNTHESIZED_BYTES = 2**31 - 2**20


def _is_external(tensor: onnx.TensorProto) -> bool:
    return tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data) > 0


def _values(tensor: onnx.TensorProto, rng: np.random.Generator) -> np.ndarray:
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    shape = tuple(int(d) for d in tensor.dims)
    if dtype.kind == "f":
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(0, 8, size=shape).astype(dtype)


def synthesize_weights(onnx_bytes: bytes, seed: int = 0) -> tuple[bytes, dict[str, Any] | None]:
    """The model with every absent initializer filled, and a record of what was synthesized.

    Args:
        onnx_bytes: a model, graph-only or not.
        seed: seed of the generator (tensors are filled in initializer order).

    Returns:
        ``(bytes, None)`` unchanged for a self-contained model; otherwise the self-contained
        bytes and ``{"seed", "tensors", "bytes", "distribution"}``.

    Raises:
        UnsupportedModelError: the weights would not fit one ONNX file, or a reference has an
            element type that cannot be synthesized.
    """
    model = onnx.load_from_string(onnx_bytes)
    external = [t for t in model.graph.initializer if _is_external(t)]
    if not external:
        return onnx_bytes, None
    rng = np.random.default_rng(seed)
    total = 0
    for tensor in external:
        try:
            values = _values(tensor, rng)
        except (KeyError, TypeError, ValueError) as exc:
            raise UnsupportedModelError(f"cannot synthesize {tensor.name!r}: {exc}") from exc
        total += values.nbytes
        if total > MAX_SYNTHESIZED_BYTES:
            raise UnsupportedModelError(
                f"graph-only model needs over {MAX_SYNTHESIZED_BYTES} bytes of weights, more "
                "than one ONNX file holds"
            )
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
        tensor.raw_data = values.tobytes()
    record = {
        "seed": seed,
        "tensors": len(external),
        "bytes": total,
        "distribution": "float: normal(0, 0.02); int: uniform 0..7; bool: p=0.5",
    }
    return model.SerializeToString(), record
