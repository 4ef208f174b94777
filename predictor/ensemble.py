"""Deep ensemble of :class:`PerfModel` members: batched prediction and uncertainty.

Members differ in initialisation and data order. The spread of their log predictions plus the
head's own residual noise gives a standard deviation in log space; the 90% interval is
``exp(mean ± 1.645 std)`` (log-normal), the point estimate ``exp(mean)``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.features.collate import collate
from predictor.models.perf_model import PerfModel

Z90 = 1.6448536269514722
#: Graphs per collated forward pass: small enough for a layer's activations to stay in cache.
BATCH_SIZE = 128

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_workers = 1


def set_inference_workers(workers: int) -> None:
    """Run the collated batches of one :meth:`Ensemble.log_predict` call on ``workers`` threads.

    torch releases the GIL inside its kernels, so with one intra-op thread per process
    (``torch.set_num_threads(1)``) two Python threads keep two cores busy on independent batches
    with none of the per-op synchronisation of intra-op threads. Default 1 (sequential).

    Raises:
        ValueError: ``workers`` is below 1.
    """
    global _pool, _workers
    if workers < 1:
        raise ValueError(f"inference workers must be >= 1, got {workers}")
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(workers, "perfloop-infer") if workers > 1 else None
        _workers = workers


def inference_workers() -> int:
    """Threads that :meth:`Ensemble.log_predict` spreads its batches over."""
    return _workers


@dataclass(frozen=True)
class LogGaussian:
    """Per-item predictive distribution in natural-log space."""

    mean: np.ndarray
    std: np.ndarray

    @property
    def value(self) -> np.ndarray:
        """Point estimate in natural units."""
        out: np.ndarray = np.exp(self.mean)
        return out

    @property
    def lo(self) -> np.ndarray:
        """Lower end of the 90% interval (natural units)."""
        out: np.ndarray = np.exp(self.mean - Z90 * self.std)
        return out

    @property
    def hi(self) -> np.ndarray:
        """Upper end of the 90% interval (natural units)."""
        out: np.ndarray = np.exp(self.mean + Z90 * self.std)
        return out

    @property
    def std_natural(self) -> np.ndarray:
        """Standard deviation of the log-normal in natural units."""
        var = (np.exp(self.std**2) - 1.0) * np.exp(2 * self.mean + self.std**2)
        out: np.ndarray = np.sqrt(var)
        return out


def combine_members(log_preds: np.ndarray, noise_std: float | np.ndarray = 0.0) -> LogGaussian:
    """Mixture moments of member log predictions ``[M, ...]`` plus independent noise."""
    mean = log_preds.mean(axis=0)
    var = log_preds.var(axis=0) + np.square(noise_std)
    return LogGaussian(mean, np.sqrt(var))


class Ensemble:
    """Members sharing one device list and metric set."""

    def __init__(self, members: Sequence[PerfModel]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.config = members[0].config

    @torch.inference_mode()
    def log_predict(
        self, graphs: Sequence[Data], metric: str, batch_size: int = BATCH_SIZE
    ) -> np.ndarray:
        """Member log predictions ``[M, len(graphs), num_devices]`` for known devices.

        Graphs are collated ``batch_size`` at a time (:func:`collate`); every member runs on
        the same collated batch and its prebuilt adjacency. Batches run on
        :func:`inference_workers` threads.

        Raises:
            KeyError: the model has no head for ``metric``.
        """
        if metric not in self.config.metrics:
            raise KeyError(f"metric {metric!r} not trained; metrics: {self.config.metrics}")
        out = np.empty((len(self.members), len(graphs), len(self.config.devices)))
        for member in self.members:
            if member.training:  # eval() walks every submodule: ~1 ms per call on a 1-graph request
                member.eval()
        starts = range(0, len(graphs), batch_size)

        def run(start: int) -> None:
            with torch.inference_mode():
                batch = collate(graphs[start : start + batch_size])
                for m, member in enumerate(self.members):
                    pred = member(batch)[metric]
                    out[m, start : start + len(pred)] = pred.double().numpy()

        pool = _pool
        if pool is None or len(starts) < 2:
            for start in starts:
                run(start)
        else:
            list(pool.map(run, starts))  # each batch writes its own slice of ``out``
        return out
