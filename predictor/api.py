"""The narrow interface the service uses to reach the predictor.

The service never touches predictor internals: it loads a predictor artifact, asks for batch
predictions for one device, trains a new version and evaluates it; it converts uploads to the graph
IR, draws models from the search spaces and scores predictions with the accuracy metrics. Everything
here is typed and free of torch types so callers need not know how the model works. The shared
types live in :mod:`predictor.types` (the implementation imports them from there, never from here);
heavy modules load inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from predictor.errors import ModelLoadError
from predictor.ir.fingerprint import graph_fingerprint
from predictor.ir.schema import GraphIR
from predictor.metrics import accuracy_within, coverage, mape, score
from predictor.spaces.base import InvalidSpecError
from predictor.spaces.generation import Interval as GenerationInterval
from predictor.spaces.generation import generation_time, plan_generation
from predictor.types import (
    METRICS,
    DeviceContext,
    Estimate,
    Metric,
    PredictionBatch,
    Predictor,
    Sample,
)

if TYPE_CHECKING:
    from predictor.spaces.base import SearchSpace

__all__ = [
    "METRICS",
    "DeviceContext",
    "Estimate",
    "GenerationInterval",
    "GraphIR",
    "InvalidSpecError",
    "Metric",
    "ModelLoadError",
    "PredictionBatch",
    "Predictor",
    "Sample",
    "accuracy_within",
    "coverage",
    "evaluate",
    "generation_time",
    "get_space",
    "graph_fingerprint",
    "graph_from_onnx",
    "graph_from_onnx_flagged",
    "load_predictor",
    "mape",
    "plan_generation",
    "reference_specs",
    "score",
    "select_measurements",
    "set_inference_workers",
    "train_predictor",
]


def load_predictor(path: Path) -> Predictor:
    """Load a predictor artifact directory.

    Raises:
        predictor.ir.schema.IRVersionError: the artifact was built for another IR version.
        FileNotFoundError: no artifact at ``path``.
    """
    from predictor.artifact import load_artifact

    return load_artifact(path)


def install_shipped_predictor(artifact_dir: Path) -> tuple[str, Path] | None:
    """Copy the predictor shipped with perfloop to ``artifact_dir/<version>``.

    Returns:
        ``(version, artifact directory)``, or None when this build ships no predictor.
    """
    from predictor.pretrained import copy_shipped, shipped_version

    version = shipped_version()
    if version is None:
        return None
    return version, copy_shipped(artifact_dir / version)


def train_predictor(
    samples: Sequence[Sample],
    out_dir: Path,
    *,
    version: str | None = None,
    quick: bool = False,
    min_device_samples: int = 20,
    init_from: Path | None = None,
) -> Path:
    """Train a new predictor version on measured samples and write its artifact.

    Devices with at least ``min_device_samples`` samples get a learned head; any other device is
    served by few-shot adaptation from its own samples at prediction time.

    Args:
        samples: measurements (any subset of targets per sample).
        out_dir: empty or missing directory for the artifact.
        version: version string (default: a UTC timestamp).
        quick: tiny model and few epochs (tests, demos).
        min_device_samples: samples a device needs to get its own head.
        init_from: artifact to warm-start from: its encoder, feature constants, model size and
            the heads of devices it knows; other devices get fresh heads.

    Returns:
        The artifact directory.

    Raises:
        ValueError: no device has enough samples.
        FileExistsError: ``out_dir`` is not empty.
        FileNotFoundError: no artifact at ``init_from``.
    """
    from predictor.training.fit import QUICK_SETTINGS, FitSettings
    from predictor.training.from_samples import train_from_samples

    settings = QUICK_SETTINGS if quick else FitSettings()
    return train_from_samples(samples, out_dir, settings, version, min_device_samples, init_from)


def evaluate(
    path: Path, samples: Sequence[Sample], metrics: Sequence[Metric] = ("latency_ms",)
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Score the artifact at ``path`` on held-out samples.

    Returns:
        ``{metric: {device: {spearman, kendall, mape, rmse_log, acc_5, acc_10, coverage_90}}}``.
    """
    from predictor.training.from_samples import evaluate_samples

    return evaluate_samples(path, samples, metrics)


def select_measurements(
    candidates: Sequence[GraphIR],
    measured: Sequence[GraphIR],
    k: int,
    weights: Sequence[float] | None = None,
) -> list[int]:
    """Indices of the ``k`` candidates most worth measuring next on a device (in pick order).

    k-center greedy over label-free static graph features, optionally weighted (e.g. by
    predicted interval width); see :func:`predictor.acquisition.select_diverse`.
    """
    from predictor.acquisition import select_diverse

    return select_diverse(candidates, measured, k, weights)


def set_inference_workers(workers: int) -> None:
    """Threads one batched prediction call spreads its graph batches over (default 1).

    Use with one torch intra-op thread per process; see
    :func:`predictor.ensemble.set_inference_workers`.

    Raises:
        ValueError: ``workers`` is below 1.
    """
    from predictor.ensemble import set_inference_workers as _set

    _set(workers)


def graph_from_onnx(
    model: bytes | Path,
    *,
    max_bytes: int | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> GraphIR:
    """Convert an ONNX model (bytes or a file) to the canonical graph IR.

    Args:
        model: the serialized model or its path.
        max_bytes: largest accepted model (default: the importer's limit).
        input_shapes: concrete shapes for dynamic inputs, by input name.

    Raises:
        ModelLoadError: not a usable ONNX model (its ``code`` names the reason).
    """
    from predictor.ir.onnx_import import DEFAULT_MAX_BYTES, ir_from_onnx

    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    return ir_from_onnx(model, input_shapes=input_shapes, max_bytes=limit)


def graph_from_onnx_flagged(data: bytes, *, max_bytes: int) -> tuple[GraphIR, bool]:
    """The graph IR of ONNX bytes and whether the model is graph-only (weights left out).

    Raises:
        ModelLoadError: not a usable ONNX model (its ``code`` names the reason).
    """
    from predictor.ir.graph_only import is_graph_only
    from predictor.ir.load import read_model_bytes
    from predictor.ir.onnx_import import ir_from_onnx

    proto = read_model_bytes(data, max_bytes)
    return ir_from_onnx(proto, max_bytes=max_bytes), is_graph_only(proto)


def get_space(name: str) -> SearchSpace:
    """The search space called ``name`` (sample specs, export them to ONNX or the graph IR).

    Raises:
        predictor.spaces.base.UnknownSpaceError: ``name`` is not a known space (the message
            lists the valid ones).
    """
    from predictor.spaces.registry import get_space as _get_space

    return _get_space(name)


def reference_specs() -> dict[str, list[Any]]:
    """Space name -> its reference architecture specs (measured first on every new device)."""
    from predictor.spaces.datafiles import load_reference_archs

    return load_reference_archs()
