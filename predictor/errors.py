"""Typed, documented errors of the predictor library.

Every error a user can cause by handing us a bad model is a :class:`ModelLoadError` subclass
with a stable ``code`` (used by the CLI and mapped to HTTP 4xx by the service).
"""

from __future__ import annotations


class PredictorError(Exception):
    """Base class of all predictor errors."""

    code = "predictor_error"


class ModelLoadError(PredictorError, ValueError):
    """The bytes or file given as a model cannot be turned into a graph IR."""

    code = "invalid_model"


class NotOnnxError(ModelLoadError):
    """The input is not an ONNX ModelProto (wrong file type or garbage)."""

    code = "not_onnx"


class TruncatedModelError(ModelLoadError):
    """The input looks like ONNX but ends early or fails to parse."""

    code = "truncated_model"


class EmptyGraphError(ModelLoadError):
    """The model has no nodes (or no inputs/outputs)."""

    code = "empty_graph"


class ExternalDataError(ModelLoadError):
    """The model references tensors stored in external files; send one self-contained file."""

    code = "external_data"


class DynamicShapeError(ModelLoadError):
    """An input has a symbolic or unknown dimension and no concrete shape was given."""

    code = "dynamic_shape"


class ModelTooLargeError(ModelLoadError):
    """The model is over the configured size limit."""

    code = "model_too_large"


class InvalidModelError(ModelLoadError):
    """The model parses but is not a valid graph (checker or shape inference failed)."""

    code = "invalid_graph"


class GraphOnlyError(ModelLoadError):
    """A graph-only model's weight references are unusable (no shape, no type, bad length)."""

    code = "bad_graph_only"
