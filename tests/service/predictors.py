"""A minimal but real predictor for serving tests: latency proportional to MACs.

The artifact is a directory with ``linear.json`` ({"version", "ms_per_mmac"}). On a device
with measured samples the scale is calibrated to them (median of latency / MMACs) and the
relative uncertainty drops from 50% to 5%, so tests can see samples reach the predictor.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from predictor.api import DeviceContext, Estimate, Metric, PredictionBatch
from predictor.ir.schema import GraphIR

Z90 = 1.6448536269514722


class LinearMacsPredictor:
    """latency_ms = scale * MMACs; peak_memory_bytes = peak activation bytes; energy = 0.1 mJ/ms."""

    def __init__(self, version: str, ms_per_mmac: float) -> None:
        self._version = version
        self.ms_per_mmac = ms_per_mmac

    @property
    def version(self) -> str:
        return self._version

    def _scale(self, device: DeviceContext) -> tuple[float, float]:
        ratios = [
            s.latency_ms / (s.graph.macs / 1e6)
            for s in device.samples
            if s.latency_ms is not None and s.graph.macs > 0
        ]
        if ratios:
            return statistics.median(ratios), 0.05
        return self.ms_per_mmac, 0.5

    def predict(
        self,
        graphs: Sequence[GraphIR],
        device: DeviceContext,
        metrics: Sequence[Metric] = ("latency_ms",),
    ) -> PredictionBatch:
        scale, rel_std = self._scale(device)
        out = []
        for g in graphs:
            latency = scale * g.macs / 1e6
            values = {
                "latency_ms": latency,
                "energy_mj": 0.1 * latency,
                "peak_memory_bytes": float(g.peak_activation_bytes),
            }
            out.append(
                {m: _estimate(values[m], rel_std) for m in metrics}  # type: ignore[misc]
            )
        return PredictionBatch(version=self._version, estimates=out, low_confidence=False)


def _estimate(mean: float, rel_std: float) -> Estimate:
    std = rel_std * mean
    return Estimate(mean=mean, std=std, lo=mean - Z90 * std, hi=mean + Z90 * std)


def write_artifact(path: Path, version: str, ms_per_mmac: float = 0.01) -> Path:
    """Write a LinearMacsPredictor artifact directory."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "linear.json").write_text(json.dumps({"version": version, "ms_per_mmac": ms_per_mmac}))
    return path


def load_linear(path: Path) -> LinearMacsPredictor:
    """Load an artifact written by :func:`write_artifact`."""
    meta = json.loads((path / "linear.json").read_text())
    return LinearMacsPredictor(meta["version"], float(meta["ms_per_mmac"]))
