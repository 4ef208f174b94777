"""The narrow interface the service uses to reach the predictor.

The service never touches predictor internals: it loads a predictor artifact, asks for batch
predictions for one device, trains a new version and evaluates it. Everything here is typed and
free of torch types so callers need not know how the model works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from predictor.ir.schema import GraphIR

Metric = Literal["latency_ms", "energy_mj", "peak_memory_bytes"]
METRICS: tuple[Metric, ...] = ("latency_ms", "energy_mj", "peak_memory_bytes")


@dataclass(frozen=True, slots=True)
class Estimate:
    """A prediction with uncertainty: mean, standard deviation and a 90% interval [lo, hi]."""

    mean: float
    std: float
    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured graph on one device; any subset of the targets may be present."""

    graph: GraphIR
    device: str
    latency_ms: float | None = None
    energy_mj: float | None = None
    peak_memory_bytes: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What the predictor may know about the target device at prediction time.

    ``samples`` are measurements already taken on this device (reference architectures and any
    others); the predictor builds the device's hardware descriptor and few-shot adaptation from
    them, so an unseen device gets predictions as soon as it has measured the references.
    """

    name: str
    kind: str = "cpu"
    samples: tuple[Sample, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """Predictions for a batch of graphs on one device, with the version that made them."""

    version: str
    estimates: list[dict[Metric, Estimate]]
    low_confidence: bool = False


class Predictor(Protocol):
    """A loaded predictor version."""

    @property
    def version(self) -> str:
        """Version string of the artifact."""
        ...

    def predict(
        self,
        graphs: Sequence[GraphIR],
        device: DeviceContext,
        metrics: Sequence[Metric] = ("latency_ms",),
    ) -> PredictionBatch:
        """Predict ``metrics`` for every graph on ``device`` in one batched call."""
        ...


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
    predicted interval width); see :func:`predictor.active.acquire.select_diverse`.
    """
    from predictor.active.acquire import select_diverse

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
