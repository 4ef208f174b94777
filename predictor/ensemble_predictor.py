"""The :class:`predictor.api.Predictor` implementation behind a loaded artifact.

Per metric and device: a device the ensemble was trained on uses its learned head; another
device with measurements gets the no-gradient few-shot head (:mod:`predictor.fewshot`) fitted on
them (cached for as long as the measurements stay the same); a device without any measurement
gets the mean over known devices, flagged low-confidence. Peak memory without a trained head
falls back to the IR's static estimate (weights + peak activations).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from predictor.ensemble import Ensemble, LogGaussian, combine_members
from predictor.errors import PredictorError
from predictor.features.featurizer import featurize
from predictor.fewshot import FewShotConfig, FewShotHead, fit_fewshot
from predictor.ir.schema import GraphIR
from predictor.models.adapt import fit_nnls_head
from predictor.novelty import op_presence, seen_op_types
from predictor.types import DeviceContext, Estimate, Metric, PredictionBatch

#: Fewer measurements than this on an unseen device flag the batch as low-confidence.
MIN_CONFIDENT_SAMPLES = 5
#: Featurized graphs kept between calls (a warm batch skips featurization).
FEATURE_CACHE_SIZE = 50_000
#: Fitted few-shot heads kept, one per (device, metric, measurement set).
FEWSHOT_CACHE_SIZE = 64
_UNKNOWN_NOISE = 0.5
_HeadKey = tuple[str, str, tuple[tuple[GraphIR, float], ...], int | None]


class NoDataError(PredictorError):
    """Nothing to predict a metric from (no trained head and no measurement)."""

    code = "no_data"


def _basis(data: Sequence[Data]) -> np.ndarray:
    out: np.ndarray = torch.cat([d.basis for d in data]).double().numpy()
    return out


def _log_macs(graphs: Sequence[GraphIR]) -> np.ndarray:
    out: np.ndarray = np.log(np.maximum([float(g.macs) for g in graphs], 1.0))
    return out


def _static_memory(graphs: Sequence[GraphIR]) -> np.ndarray:
    return np.asarray([[g.peak_activation_bytes, g.model_bytes] for g in graphs], dtype=float)


class EnsemblePredictor:
    """A loaded artifact: batched predictions with uncertainty for one device per call."""

    def __init__(self, ensemble: Ensemble, meta: dict[str, Any]) -> None:
        self.ensemble = ensemble
        self.meta = meta
        self.fewshot = FewShotConfig(**meta.get("fewshot", {}))
        self._noise: dict[str, dict[str, float]] = meta.get("noise_std", {})
        self._features: OrderedDict[GraphIR, Data] = OrderedDict()
        self._heads: OrderedDict[_HeadKey, FewShotHead] = OrderedDict()
        self._seen: OrderedDict[tuple[GraphIR, ...], np.ndarray] = OrderedDict()
        self._heads_lock = threading.Lock()

    def _featurize(self, graphs: Sequence[GraphIR]) -> list[Data]:
        """Featurized graphs, from an LRU cache keyed by IR equality (names ignored)."""
        out: list[Data] = []
        for g in graphs:
            data = self._features.get(g)
            if data is None:
                data = featurize(g)
                self._features[g] = data
                if len(self._features) > FEATURE_CACHE_SIZE:
                    self._features.popitem(last=False)
            else:
                self._features.move_to_end(g)
            out.append(data)
        return out

    @property
    def version(self) -> str:
        """Version string of the artifact."""
        return str(self.meta["version"])

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices with a learned head."""
        return self.ensemble.config.devices

    def predict(
        self,
        graphs: Sequence[GraphIR],
        device: DeviceContext,
        metrics: Sequence[Metric] = ("latency_ms",),
    ) -> PredictionBatch:
        """Predict ``metrics`` for every graph on ``device`` in one batched call.

        Raises:
            NoDataError: a metric has neither a trained head nor a measurement on this device.
        """
        data = self._featurize(graphs)
        estimates: list[dict[Metric, Estimate]] = [{} for _ in graphs]
        low = False
        for metric in metrics:
            dist, metric_low = self._distribution(graphs, data, device, metric)
            low = low or metric_low
            std = dist.std_natural
            for i, est in enumerate(estimates):
                est[metric] = Estimate(
                    float(dist.value[i]), float(std[i]), float(dist.lo[i]), float(dist.hi[i])
                )
        return PredictionBatch(self.version, estimates, low)

    def _measured(self, device: DeviceContext, metric: Metric) -> list[tuple[GraphIR, float]]:
        out: list[tuple[GraphIR, float]] = []
        for s in device.samples:
            value = getattr(s, metric)
            if value is not None and value > 0:
                out.append((s.graph, float(value)))
        return out

    def _distribution(
        self, graphs: Sequence[GraphIR], data: list[Data], device: DeviceContext, metric: Metric
    ) -> tuple[LogGaussian, bool]:
        measured = self._measured(device, metric)
        trained = metric in self.ensemble.config.metrics
        if trained and device.name in self.devices:
            col = self.devices.index(device.name)
            member_log = self.ensemble.log_predict(data, metric)
            noise = self._noise.get(metric, {}).get(device.name, 0.1)
            dist = combine_members(member_log[:, :, col], noise)
            if measured and len(self.devices) > 1:
                dist = self._foreign_rows(
                    dist, graphs, data, member_log, measured, device.name, metric
                )
            return dist, False
        if trained and measured:
            head = self._fewshot_head(device.name, metric, measured)
            member_log = self.ensemble.log_predict(data, metric)
            basis = _basis(data)
            dist = head.predict(member_log, basis, _log_macs(graphs), basis)
            return dist, len(measured) < MIN_CONFIDENT_SAMPLES
        if trained:
            logs = self.ensemble.log_predict(data, metric)
            spread = logs.std(axis=2).mean(axis=0)
            return combine_members(logs.mean(axis=2), spread), True
        if metric == "peak_memory_bytes":
            return self._static_memory(graphs, measured), len(measured) < MIN_CONFIDENT_SAMPLES
        raise NoDataError(
            f"no trained {metric} head and no {metric} measurement on device {device.name!r}"
        )

    def _foreign_rows(
        self,
        dist: LogGaussian,
        graphs: Sequence[GraphIR],
        data: list[Data],
        member_log: np.ndarray,
        measured: list[tuple[GraphIR, float]],
        device: str,
        metric: Metric,
    ) -> LogGaussian:
        """Graphs with an op type none of the device's measured graphs has: the few-shot head
        over the *other* devices' columns instead of the device's learned head.

        A head learned on a device that measured only CNN cells has no data behind its answer
        for attention or recurrent ops (9-17x off, docs/BENCHMARKS.md "Out-of-family
        predictions on a device that measured only NAS cells"); the other heads, some trained
        on every zoo family, scaled to this device on its measurements, do have it.
        """
        col = self.devices.index(device)
        basis = _basis(data)
        foreign = (op_presence(basis) & ~self._seen_ops(measured)).any(axis=1)
        if not foreign.any():
            return dist
        others = np.delete(member_log[:, foreign], col, axis=2)
        head = self._fewshot_head(device, metric, measured, exclude=col)
        rows = [graphs[int(i)] for i in np.flatnonzero(foreign)]
        part = head.predict(others, basis[foreign], _log_macs(rows), basis[foreign])
        mean, std = dist.mean.copy(), dist.std.copy()
        mean[foreign], std[foreign] = part.mean, part.std
        return LogGaussian(mean, std)

    def _seen_ops(self, measured: list[tuple[GraphIR, float]]) -> np.ndarray:
        """``[V]`` bool: op types present in any measured graph (cached per measurement set)."""
        key = tuple(g for g, _ in measured)
        with self._heads_lock:
            cached = self._seen.get(key)
        if cached is not None:
            return cached
        seen = seen_op_types(_basis(self._featurize(list(key))))
        with self._heads_lock:
            self._seen[key] = seen
            if len(self._seen) > FEWSHOT_CACHE_SIZE:
                self._seen.popitem(last=False)
        return seen

    def _fewshot_head(
        self,
        device: str,
        metric: Metric,
        measured: list[tuple[GraphIR, float]],
        exclude: int | None = None,
    ) -> FewShotHead:
        """The few-shot head fitted on ``measured``, from cache when the same samples were seen.

        Fitting runs the ensemble on every measured graph (hundreds on a busy device); the head
        depends only on those samples, so one request for one graph costs one small forward.
        """
        key = (device, metric, tuple(measured), exclude)
        with self._heads_lock:
            head = self._heads.get(key)
            if head is not None:
                self._heads.move_to_end(key)
                return head
        support = self._featurize([g for g, _ in measured])
        basis = _basis(support)
        support_log = self.ensemble.log_predict(support, metric)
        if exclude is not None:
            support_log = np.delete(support_log, exclude, axis=2)
        head = fit_fewshot(
            support_log,
            basis,
            np.asarray([v for _, v in measured]),
            self.fewshot,
            _log_macs([g for g, _ in measured]),
            novelty_basis=basis,
        )
        with self._heads_lock:
            self._heads[key] = head
            if len(self._heads) > FEWSHOT_CACHE_SIZE:
                self._heads.popitem(last=False)
        return head

    def _static_memory(
        self, graphs: Sequence[GraphIR], measured: list[tuple[GraphIR, float]]
    ) -> LogGaussian:
        x = _static_memory(graphs)
        if not measured:
            return LogGaussian(np.log(np.maximum(x.sum(axis=1), 1.0)), np.full(len(x), 0.5))
        xs = _static_memory([g for g, _ in measured])
        head = fit_nnls_head(xs, np.asarray([v for _, v in measured]), ridge=1e-3)
        mean = np.log(np.maximum(head.predict(x), 1.0))
        return LogGaussian(mean, np.full(len(x), _UNKNOWN_NOISE if len(measured) < 3 else 0.2))
