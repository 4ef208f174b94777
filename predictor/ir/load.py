"""Loading and validating ONNX models: bytes in, a checked, shape-inferred ModelProto out.

Every way a user can hand us a bad model ends in a :class:`predictor.errors.ModelLoadError`
subclass whose message names the bad value; nothing else escapes for bad bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import shape_inference

from predictor.errors import (
    DynamicShapeError,
    EmptyGraphError,
    InvalidModelError,
    ModelTooLargeError,
    NotOnnxError,
    TruncatedModelError,
)
from predictor.ir.graph_only import check_references, is_external, is_graph_only

logger = logging.getLogger(__name__)

#: Default size limit of a model file.
DEFAULT_MAX_BYTES = 200 * 2**20

ModelSource = bytes | str | Path | onnx.ModelProto


def read_model_bytes(model: ModelSource, max_bytes: int = DEFAULT_MAX_BYTES) -> onnx.ModelProto:
    """Parse ``model`` (bytes, a path or a ModelProto) and check its container.

    Raises:
        ModelTooLargeError: over ``max_bytes``.
        NotOnnxError: the data is not an ONNX model.
        TruncatedModelError: the data looks like ONNX but does not parse.
        ExternalDataError: external data outside the top-level initializers.
        GraphOnlyError: a graph-only initializer reference is unusable.
        EmptyGraphError: the graph has no nodes, inputs or outputs.
    """
    if isinstance(model, onnx.ModelProto):
        proto = onnx.ModelProto()
        proto.CopyFrom(model)  # never mutate the caller's model
        size = proto.ByteSize()
        _check_size(size, max_bytes)
    else:
        data = _read_bytes(model, max_bytes)
        proto = _parse(data)
    _check_container(proto)
    return proto


def _read_bytes(model: bytes | str | Path, max_bytes: int) -> bytes:
    if isinstance(model, bytes | bytearray | memoryview):
        data = bytes(model)
        _check_size(len(data), max_bytes)
        return data
    path = Path(model)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotOnnxError(f"cannot read model file {str(path)!r}: {exc.strerror}") from exc
    _check_size(size, max_bytes)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NotOnnxError(f"cannot read model file {str(path)!r}: {exc.strerror}") from exc


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ModelTooLargeError(f"model is {size} bytes, over the limit of {max_bytes} bytes")


def _parse(data: bytes) -> onnx.ModelProto:
    if not data:
        raise NotOnnxError("model is empty (0 bytes)")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        # An ONNX file starts with field 1 (ir_version, varint): byte 0x08.
        if data[:1] == b"\x08":
            raise TruncatedModelError(
                f"model of {len(data)} bytes does not parse as ONNX (truncated or corrupt): {exc}"
            ) from exc
        raise NotOnnxError(
            f"data of {len(data)} bytes starting with {data[:8]!r} is not an ONNX model"
        ) from exc
    if not proto.HasField("graph") or proto.ir_version <= 0:
        raise NotOnnxError(
            f"data of {len(data)} bytes starting with {data[:8]!r} is not an ONNX model "
            f"(ir_version={proto.ir_version}, has graph: {proto.HasField('graph')})"
        )
    return proto


def _check_container(proto: onnx.ModelProto) -> None:
    graph = proto.graph
    check_references(proto)  # external initializers make a graph-only model; never read
    if len(graph.node) == 0:
        raise EmptyGraphError("model graph has no nodes")
    if len(graph.output) == 0:
        raise EmptyGraphError("model graph has no outputs")


def fix_input_shapes(
    proto: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]] | None
) -> list[str]:
    """Write concrete shapes into the graph inputs; returns the names of the real inputs.

    Raises:
        DynamicShapeError: an input keeps a symbolic or unknown dimension, or ``input_shapes``
            names an unknown input or has the wrong rank.
    """
    init_names = {t.name for t in proto.graph.initializer}
    real = [i for i in proto.graph.input if i.name not in init_names]
    names = [i.name for i in real]
    given = dict(input_shapes or {})
    for name in given:
        if name not in names:
            raise DynamicShapeError(f"input_shapes names input {name!r}; the inputs are {names}")
    for value in real:
        _fix_one(value, given.get(value.name))
    return names


def _fix_one(value: onnx.ValueInfoProto, shape: Sequence[int] | None) -> None:
    tensor_type = value.type.tensor_type
    if not value.type.HasField("tensor_type"):
        raise InvalidModelError(f"input {value.name!r} is not a tensor")
    dims = tensor_type.shape.dim if tensor_type.HasField("shape") else None
    if shape is not None:
        concrete = [int(d) for d in shape]
        if any(d <= 0 for d in concrete):
            raise DynamicShapeError(f"shape {concrete} for input {value.name!r} has a dim <= 0")
        if dims is not None and len(dims) != len(concrete):
            raise DynamicShapeError(
                f"shape {concrete} for input {value.name!r} has rank {len(concrete)}, "
                f"the model expects rank {len(dims)}"
            )
        del tensor_type.shape.dim[:]
        for d in concrete:
            tensor_type.shape.dim.add().dim_value = d
        return
    if dims is None:
        raise DynamicShapeError(
            f"input {value.name!r} has no shape; give one with input_shapes / --input-shape"
        )
    for i, dim in enumerate(dims):
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            label = dim.dim_param or "?"
            raise DynamicShapeError(
                f"input {value.name!r} has dynamic dimension {i} ({label!r}); "
                "give a concrete shape with input_shapes / --input-shape"
            )


def check_and_infer(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Run the ONNX checker and shape inference (strict unless custom-domain ops need lax).

    A graph-only model is checked with its external initializers stood in by graph inputs of
    the same type and shape (the checker would look for the absent files); they are put back
    as initializers afterwards.

    Raises:
        InvalidModelError: the checker or shape inference rejects the model.
    """
    if not is_graph_only(proto):
        return _check_and_infer(proto)
    view = onnx.ModelProto()
    view.CopyFrom(proto)
    external = [t for t in view.graph.initializer if is_external(t)]
    kept = [t for t in view.graph.initializer if not is_external(t)]
    del view.graph.initializer[:]
    view.graph.initializer.extend(kept)
    declared = {i.name for i in view.graph.input}
    stand_ins = [t.name for t in external if t.name not in declared]
    view.graph.input.extend(
        onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
        for t in external
        if t.name in stand_ins
    )
    inferred = _check_and_infer(view)
    real_inputs = [i for i in inferred.graph.input if i.name not in stand_ins]
    del inferred.graph.input[:]
    inferred.graph.input.extend(real_inputs)
    inferred.graph.initializer.extend(external)
    return inferred


def _check_and_infer(proto: onnx.ModelProto) -> onnx.ModelProto:
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, RuntimeError, ValueError) as exc:
        raise InvalidModelError(f"ONNX checker rejected the model: {_first_line(exc)}") from exc
    custom = sorted({n.domain for n in proto.graph.node if n.domain not in ("", "ai.onnx")})
    try:
        return shape_inference.infer_shapes(
            proto, check_type=True, strict_mode=not custom, data_prop=True
        )
    except (onnx.shape_inference.InferenceError, RuntimeError, ValueError) as exc:
        raise InvalidModelError(f"ONNX shape inference failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
