"""How far a graph is from what a device has measured: the part of the interval data cannot see.

The few-shot head's noise estimate comes from leave-one-out errors on the device's own
measurements, so it only knows the kinds of networks among them. A network built from op types
the device never ran (a ViT's LayerNorm / GELU / MatMul on a device that measured CNNs) gets
the same width as one more CNN, and that is where the large errors are. Two cheap signals, both
from the per-op-type cost basis (count, GMACs, MB written per op type; :mod:`.features`):

* ``unseen``: the share of the graph's cost in op types that no measured graph contains
  (the mean of its count, MACs and bytes shares);
* ``distance``: the Hellinger distance from the graph's op mix (each op type's share of the
  graph's cost, same three views, averaged) to the nearest measured graph's, in [0, 1]; one
  matrix product against the measured graphs' square-root mixes.

The head's own noise is made local as well: each measured graph's leave-one-out log error is
kept, and a prediction's noise is their RMS weighted by a Gaussian kernel of the op-mix distance
(a device whose CNNs fit well and whose RNNs do not gets narrow CNN and wide RNN intervals; on a
device that measured one family every weight is about equal and the noise is the head's single
figure). All combine in quadrature:
``std² = member spread² + local noise² + (unseen_scale · unseen)² + (distance_scale · distance)²``.
The form and the scales were chosen on leave-one-family-out validation
(``benchmarks/novelty.py``, docs/BENCHMARKS.md "Novelty-aware intervals"). Everything costs one
small matrix product per batch against the measured graphs' mixes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from predictor.features.featurizer import BASIS_PER_OP
from predictor.features.vocab import OP_VOCAB

#: Measured graphs compared against per prediction (nearest op mix); the rest are subsampled.
MAX_REFERENCE_MIXES = 256


def op_mix(basis: np.ndarray) -> np.ndarray:
    """``[N, V, 3]`` share of each op type in each graph's count, MACs and bytes written.

    Args:
        basis: ``[N, V * 3]`` cost basis in vocabulary order (:func:`cost_basis_from`).

    Raises:
        ValueError: ``basis`` is not ``V * 3`` columns wide (a column-filtered basis).
    """
    width = len(OP_VOCAB) * BASIS_PER_OP
    if basis.ndim != 2 or basis.shape[1] != width:
        raise ValueError(f"novelty needs the full cost basis ({width} columns), got {basis.shape}")
    per_op = basis.reshape(len(basis), len(OP_VOCAB), BASIS_PER_OP)
    totals = per_op.sum(axis=1, keepdims=True)
    out: np.ndarray = per_op / np.where(totals > 0, totals, 1.0)
    return out


@dataclass(frozen=True)
class NoveltySettings:
    """Scales of the two novelty terms (log-space standard deviation per unit of signal)."""

    unseen_scale: float = 0.0
    distance_scale: float = 0.0
    #: Op-mix distance over which the measured graphs' leave-one-out errors are averaged into
    #: the local noise (Gaussian kernel width; 0: one noise figure for every graph).
    local_bandwidth: float = 0.0

    @property
    def enabled(self) -> bool:
        """Whether any term changes the interval."""
        return self.unseen_scale > 0 or self.distance_scale > 0 or self.local_bandwidth > 0


def op_presence(basis: np.ndarray) -> np.ndarray:
    """``[N, V]`` bool: which op types each graph of an ``[N, V * 3]`` cost basis contains."""
    out: np.ndarray = basis.reshape(len(basis), -1, BASIS_PER_OP)[:, :, 0] > 0
    return out


def seen_op_types(basis: np.ndarray) -> np.ndarray:
    """``[V]`` bool: op types present in any graph of an ``[N, V * 3]`` cost basis."""
    return np.asarray(op_presence(basis).any(axis=0))


@dataclass(frozen=True)
class Novelty:
    """What a device has measured, as op types and op mixes (fitted from its measured graphs)."""

    seen_ops: np.ndarray
    mixes: np.ndarray
    settings: NoveltySettings
    #: Leave-one-out log error of each kept measured graph (same rows as ``mixes``), or None.
    errors: np.ndarray | None = None
    keep: np.ndarray | None = None

    @staticmethod
    def fit(basis: np.ndarray, settings: NoveltySettings) -> Novelty:
        """From the ``[S, V * 3]`` cost basis of the measured graphs."""
        mix = op_mix(basis)
        seen = seen_op_types(basis)
        keep = np.arange(len(mix))
        if len(mix) > MAX_REFERENCE_MIXES:  # evenly spaced: deterministic, covers the set
            keep = np.linspace(0, len(mix) - 1, MAX_REFERENCE_MIXES).astype(int)
        return Novelty(seen, np.sqrt(mix[keep].reshape(len(keep), -1)), settings, None, keep)

    def has_unseen(self, basis: np.ndarray) -> np.ndarray:
        """``[N]`` bool: the graph has an op type none of the measured graphs has."""
        out: np.ndarray = (op_presence(basis) & ~self.seen_ops).any(axis=1)
        return out

    def with_errors(self, errors: np.ndarray) -> Novelty:
        """The same with each measured graph's leave-one-out log error (all S of them)."""
        kept = errors if self.keep is None else errors[self.keep]
        return replace(self, errors=np.asarray(kept, dtype=float))

    def _overlap(self, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Op mixes of ``basis`` and their Bhattacharyya overlap with the measured ones."""
        mix = op_mix(basis)
        overlap = np.sqrt(mix.reshape(len(mix), -1)) @ self.mixes.T / BASIS_PER_OP
        # rounded: BLAS blocks differently by batch size, and a graph's interval must not
        # depend on which batch it came in (last-bit differences otherwise)
        return mix, np.round(overlap, 12)

    def signals(self, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``unseen`` and ``distance`` (both ``[N]``, in [0, 1]) of graphs with this basis."""
        mix, overlap = self._overlap(basis)
        return self._signals(mix, overlap)

    def _signals(self, mix: np.ndarray, overlap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unseen = mix[:, ~self.seen_ops, :].sum(axis=1).mean(axis=1)
        # Bhattacharyya coefficient of the share vectors, averaged over the three views
        dist: np.ndarray = np.sqrt(np.clip(1.0 - overlap.max(axis=1), 0.0, 1.0))
        return unseen, dist

    def local_noise(self, overlap: np.ndarray) -> np.ndarray | None:
        """Kernel-weighted RMS leave-one-out error of the measured graphs, per row.

        Weights ``exp(-(d / bandwidth)²)`` of the op-mix distance ``d``, relative to the nearest
        measured graph's, so a graph far from all of them still averages its nearest ones.
        """
        width = self.settings.local_bandwidth
        if self.errors is None or width <= 0:
            return None
        dist2 = np.clip(1.0 - overlap, 0.0, 1.0)  # squared Hellinger distance
        weights = np.exp(-(dist2 - dist2.min(axis=1, keepdims=True)) / width**2)
        out: np.ndarray = np.sqrt(weights @ self.errors**2 / weights.sum(axis=1))
        return out

    def noise_std(self, basis: np.ndarray, head_noise: float, floor: float) -> np.ndarray:
        """``[N]`` log-space noise: the head's (local when fitted so) plus the novelty terms."""
        mix, overlap = self._overlap(basis)
        local = self.local_noise(overlap)
        base = np.full(len(mix), head_noise) if local is None else np.maximum(local, floor)
        unseen, dist = self._signals(mix, overlap)
        out: np.ndarray = np.sqrt(
            base**2
            + (self.settings.unseen_scale * unseen) ** 2
            + (self.settings.distance_scale * dist) ** 2
        )
        return out

    def extra_std(self, basis: np.ndarray) -> np.ndarray:
        """``[N]`` log-space standard deviation the two novelty terms add (in quadrature)."""
        unseen, dist = self.signals(basis)
        out: np.ndarray = np.hypot(
            self.settings.unseen_scale * unseen, self.settings.distance_scale * dist
        )
        return out
