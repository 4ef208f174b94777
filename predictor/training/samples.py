"""Samples grouped into the matrices training fits: unique graphs x devices per metric."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor.ir.schema import GraphIR
from predictor.types import METRICS, Metric, Sample


def sample_matrix(
    samples: Sequence[Sample], min_device_samples: int
) -> tuple[list[GraphIR], list[str], dict[Metric, np.ndarray]]:
    """Group samples by graph: unique graphs, devices with enough data, target matrices.

    Raises:
        ValueError: no device has ``min_device_samples`` samples.
    """
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.device] = counts.get(s.device, 0) + 1
    devices = sorted(d for d, c in counts.items() if c >= min_device_samples)
    if not devices:
        raise ValueError(
            f"no device has {min_device_samples} samples (counts: {dict(sorted(counts.items()))})"
        )
    rows: dict[GraphIR, int] = {}
    for s in samples:
        if s.device in devices:
            rows.setdefault(s.graph, len(rows))
    targets: dict[Metric, np.ndarray] = {}
    for metric in METRICS:
        matrix = np.full((len(rows), len(devices)), np.nan)
        for s in samples:
            value = getattr(s, metric)
            if s.device in devices and value is not None and value > 0:
                matrix[rows[s.graph], devices.index(s.device)] = value
        if np.isfinite(matrix).any():
            targets[metric] = matrix
    return list(rows), devices, targets
