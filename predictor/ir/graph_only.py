"""Graph-only ONNX models: initializers that reference external data which is not there.

Large models are saved with their weights in separate files; the predictor needs only the
shapes and types, which the references keep. A graph-only model is such a file on its own:
each top-level initializer either holds its data or is an external reference with ``dims`` and
``data_type``. Nothing ever opens the referenced files: the importer stands a zero-stride
placeholder of the declared shape in for each one (:func:`placeholder`), so static features are
exact and no memory is spent on weights. :func:`strip` writes one from any ONNX model.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from predictor.errors import ExternalDataError, GraphOnlyError

#: Initializers of at least this many bytes become references in :func:`strip`; smaller ones
#: (reshape targets, scalars, norm scales) stay inline because shape computations read them.
STRIP_MIN_BYTES = 1024
#: Location written into stripped references (a name only: the file is never written).
STRIPPED_LOCATION = "weights.absent"


def is_external(tensor: onnx.TensorProto) -> bool:
    """Whether ``tensor`` keeps its data in an external file."""
    return tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data) > 0


def is_graph_only(proto: onnx.ModelProto) -> bool:
    """Whether any top-level initializer of ``proto`` is an external reference."""
    return any(is_external(t) for t in proto.graph.initializer)


def check_references(proto: onnx.ModelProto) -> None:
    """Check every external reference of a graph-only model.

    Raises:
        GraphOnlyError: a reference without a known element type, with a negative dim, with
            inline data next to it, or whose declared ``length`` disagrees with its shape.
        ExternalDataError: external data anywhere but a top-level initializer (Constant nodes,
            subgraphs), which the importer would have to read.
    """
    for tensor in proto.graph.initializer:
        if is_external(tensor):
            _check_one(tensor)
    for node in proto.graph.node:
        for attr in node.attribute:
            tensors = [attr.t] if attr.HasField("t") else list(attr.tensors)
            if attr.HasField("g") or attr.graphs:
                tensors += [t for g in [attr.g, *attr.graphs] for t in g.initializer]
            bad = next((t for t in tensors if is_external(t)), None)
            if bad is not None:
                raise ExternalDataError(
                    f"node {node.name or node.op_type!r} attribute {attr.name!r} references "
                    "external data; only top-level initializers may (graph-only models)"
                )


def _check_one(tensor: onnx.TensorProto) -> None:
    name = tensor.name
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    except (KeyError, TypeError) as exc:
        raise GraphOnlyError(
            f"graph-only initializer {name!r} has data_type={tensor.data_type}, which is not a "
            "known ONNX element type"
        ) from exc
    if tensor.data_type == onnx.TensorProto.STRING:
        raise GraphOnlyError(f"graph-only initializer {name!r} is a string tensor")
    if any(d < 0 for d in tensor.dims):
        raise GraphOnlyError(
            f"graph-only initializer {name!r} has negative dims {list(tensor.dims)}"
        )
    if tensor.raw_data or _typed_data_size(tensor):
        raise GraphOnlyError(
            f"graph-only initializer {name!r} is an external reference and holds inline data"
        )
    entries = {e.key: e.value for e in tensor.external_data}
    if "location" not in entries:
        raise GraphOnlyError(f"graph-only initializer {name!r} has no 'location' entry")
    if "length" in entries:
        expected = int(np.prod(tensor.dims, dtype=np.int64)) * dtype.itemsize
        if not entries["length"].isdigit() or int(entries["length"]) != expected:
            raise GraphOnlyError(
                f"graph-only initializer {name!r} declares length={entries['length']!r} but "
                f"its dims {list(tensor.dims)} of {dtype.name} need {expected} bytes"
            )


def _typed_data_size(tensor: onnx.TensorProto) -> int:
    fields = ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")
    return sum(len(getattr(tensor, f)) for f in fields) + len(tensor.string_data)


def placeholder(tensor: onnx.TensorProto) -> np.ndarray:
    """A read-only array of ones of the reference's shape and type that occupies one element.

    Ones, not zeros: the importer drops all-zero biases, and an absent weight cannot say it is
    zero, so it must never read as one.
    """
    dtype = helper.tensor_dtype_to_np_dtype(tensor.data_type)
    return np.broadcast_to(np.ones((), dtype=dtype), tuple(int(d) for d in tensor.dims))


def is_placeholder(array: np.ndarray) -> bool:
    """Whether ``array`` is a :func:`placeholder` (or a view of one): every stride zero."""
    return array.size > 1 and not any(array.strides)


def contiguous(array: np.ndarray) -> np.ndarray:
    """``np.ascontiguousarray`` that leaves placeholders as they are (never materialised)."""
    return array if is_placeholder(array) else np.ascontiguousarray(array)


def strip(proto: onnx.ModelProto, min_bytes: int = STRIP_MIN_BYTES) -> onnx.ModelProto:
    """A graph-only copy of ``proto``: large initializers become absent external references.

    Args:
        proto: any ONNX model with inline initializers (not modified).
        min_bytes: initializers of at least this many bytes are stripped.

    Returns:
        The graph-only model (same graph, inputs, outputs and small constants).

    Raises:
        ExternalDataError: ``proto`` already references external files it does not carry.
    """
    out = onnx.ModelProto()
    out.CopyFrom(proto)
    offset = 0
    for tensor in out.graph.initializer:
        if is_external(tensor):
            continue
        array = onnx.numpy_helper.to_array(tensor)
        if array.nbytes < min_bytes:
            continue
        for field in ("raw_data", "float_data", "int32_data", "int64_data", "double_data"):
            tensor.ClearField(field)
        tensor.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", STRIPPED_LOCATION), ("offset", str(offset))):
            tensor.external_data.add(key=key, value=value)
        tensor.external_data.add(key="length", value=str(array.nbytes))
        offset += array.nbytes
    return out
