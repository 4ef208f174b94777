"""Training examples: featurized graphs with per-device targets attached (NaN = missing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.types import Metric


def target_key(metric: str) -> str:
    """Attribute name of a metric's target row on a :class:`Data`."""
    return f"y_{metric}"


def attach_targets(graphs: Sequence[Data], targets: Mapping[Metric, np.ndarray]) -> list[Data]:
    """Copies of ``graphs`` carrying ``y_<metric>`` rows ``[1, num_devices]``.

    Args:
        graphs: featurized graphs (one per row of each target matrix).
        targets: metric -> ``[len(graphs), num_devices]`` array, NaN where not measured.
    """
    out: list[Data] = []
    for i, g in enumerate(graphs):
        item = g.clone()
        for metric, matrix in targets.items():
            row = torch.from_numpy(np.asarray(matrix[i], dtype=np.float32)).unsqueeze(0)
            setattr(item, target_key(metric), row)
        out.append(item)
    return out
