"""Architecture-string features: (layer position, op choice) one-hot encodings.

The tokens per position come from :func:`predictor.spaces.tokens.position_tokens` (one per
NAS-Bench-201 edge, one per character of FBNet's digit strings).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor.spaces.tokens import position_tokens

__all__ = ["onehot_positions", "position_tokens"]


def onehot_positions(archs: Sequence[str]) -> np.ndarray:
    """``[len(archs), sum over positions of distinct choices]`` 0/1 matrix.

    The vocabulary per position is the sorted set of choices seen in ``archs``, so encode the
    whole table at once (train and test rows together) to get aligned columns.

    Raises:
        ValueError: the strings do not all have the same number of positions.
    """
    tokens = [position_tokens(a) for a in archs]
    width = {len(t) for t in tokens}
    if len(width) != 1:
        raise ValueError(f"architectures have differing position counts: {sorted(width)}")
    columns: list[np.ndarray] = []
    for pos in range(width.pop()):
        values = np.asarray([t[pos] for t in tokens])
        for choice in sorted(set(values.tolist())):
            columns.append((values == choice).astype(np.float64))
    return np.stack(columns, axis=1)
