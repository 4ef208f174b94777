"""Types shared by the predictor facade (:mod:`predictor.api`) and its implementation.

Free of torch types so the service can hold them without knowing how the model works. The
implementation modules import these from here, never from the facade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
