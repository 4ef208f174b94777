"""A roofline few-shot candidate: time = compute + weights read + activations written.

Three columns from the cost basis, summed over the graph: GMACs, millions of parameters of the
contraction operators (every weight read once per inference: what a batch-1 LLM decode step is
bound by) and MB of outputs written, plus an intercept, fitted by non-negative least squares on
the *relative* error (rows divided by the measurement), so a 20 ms decode step counts as much
as a 1 s prefill. Three coefficients suit ten samples where the per-op-type basis (four columns
per op type) does not: on ort-cpu LLM steps (10 onboarding samples) it cut held-out MAPE from
36-46 % to 13 % (docs/BENCHMARKS.md, "LLM prefill and decode").
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from predictor.features.featurizer import BASIS_PER_OP
from predictor.features.vocab import OP_VOCAB

_CONTRACTIONS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "LSTM", "GRU", "RNN"})
_CONTRACTION_INDEX = [i for i, op in enumerate(OP_VOCAB) if op in _CONTRACTIONS]


def has_roofline_layout(basis: np.ndarray) -> bool:
    """Whether ``basis`` has the featurizer's layout (four columns per vocabulary op)."""
    return basis.ndim == 2 and basis.shape[1] == len(OP_VOCAB) * BASIS_PER_OP


def roofline_columns(basis: np.ndarray) -> np.ndarray:
    """``[N, 3]`` GMACs, M contraction params and MB written of ``[N, B]`` cost bases."""
    per_op = basis.reshape(len(basis), len(OP_VOCAB), BASIS_PER_OP)
    return np.stack(
        [
            per_op[:, :, 1].sum(axis=1),
            per_op[:, _CONTRACTION_INDEX, 3].sum(axis=1),
            per_op[:, :, 2].sum(axis=1),
        ],
        axis=1,
    )


def fit_roofline(basis: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative ``[3 weights, intercept]`` minimising the squared relative error."""
    x = roofline_columns(basis)
    a = np.hstack([x, np.ones((len(y), 1))]) / y[:, None]
    coef, _ = nnls(a, np.ones(len(y)))
    out: np.ndarray = coef
    return out


def roofline_log(coef: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Log predictions of the fitted roofline for ``[N, B]`` cost bases."""
    values = roofline_columns(basis) @ coef[:3] + coef[3]
    out: np.ndarray = np.log(np.maximum(values, 1e-9))
    return out


def roofline_loo(basis: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out log residuals of the roofline on the measured graphs."""
    res = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        coef = fit_roofline(basis[keep], y[keep])
        res[i] = roofline_log(coef, basis[i : i + 1])[0] - np.log(y[i])
    return res
