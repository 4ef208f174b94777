"""Which devices keep a learned head: only those whose head beats the few-shot path.

With a few dozen measurements a device's learned head (trained end to end with the encoder)
extrapolates worse to new models than the few-shot head fitted on the same measurements at
prediction time (:mod:`predictor.fewshot`: a MACs power law and NNLS over the known devices'
predictions and the op cost basis). So the newest ``VALIDATION_FRACTION`` of each head device's
rows is held out, a model is fitted on the rest, and a device keeps its head only when the head's
latency MAPE on its held-out rows is no worse than the few-shot path's given the other rows. The
encoder is still trained on every device's rows: dropped heads only leave the saved model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from predictor.ensemble import Ensemble
from predictor.ensemble_predictor import EnsemblePredictor
from predictor.features.featurizer import featurize
from predictor.ir.schema import GraphIR
from predictor.models.perf_model import PerfModel
from predictor.training.fit import FitSettings, fit_ensemble
from predictor.training.samples import sample_matrix
from predictor.training.warm import transfer
from predictor.types import DeviceContext, Sample

logger = logging.getLogger(__name__)

VALIDATION_FRACTION = 0.2
#: Fewest held-out rows for a comparison; a device with fewer keeps its head.
MIN_VALIDATION = 3
_UNSEEN = "~fewshot"
#: Name a model keeps its one head under when no device's head beat few-shot: the network needs
#: a head, but no device may be served by one that lost (``~`` is not valid in device names).
ANCHOR_HEAD = "~anchor"


def split_newest(
    samples: Sequence[Sample], devices: Sequence[str]
) -> tuple[list[Sample], dict[str, list[Sample]]]:
    """Fit rows, and per device of ``devices`` its newest rows (``samples`` oldest first)."""
    rows: dict[str, list[Sample]] = {}
    for s in samples:
        if s.device in devices and (s.latency_ms or 0) > 0:
            rows.setdefault(s.device, []).append(s)
    held: dict[str, list[Sample]] = {}
    for device, own in rows.items():
        n = round(len(own) * VALIDATION_FRACTION)
        if n >= MIN_VALIDATION:
            held[device] = own[-n:]
    dropped = {id(s) for rows_ in held.values() for s in rows_}
    return [s for s in samples if id(s) not in dropped], held


def _mape(
    predictor: EnsemblePredictor, graphs: list[GraphIR], ctx: DeviceContext, y: np.ndarray
) -> float:
    batch = predictor.predict(graphs, ctx, ("latency_ms",))
    pred = np.asarray([e["latency_ms"].mean for e in batch.estimates])
    return float(np.mean(np.abs(pred - y) / y))


def compare(
    ensemble: Ensemble, fit_rows: Sequence[Sample], held: dict[str, list[Sample]]
) -> dict[str, tuple[float, float]]:
    """Device -> (head MAPE, few-shot MAPE) on its held-out rows."""
    predictor = EnsemblePredictor(ensemble, {"version": "head-gate"})
    out: dict[str, tuple[float, float]] = {}
    for device, rows in held.items():
        if device not in ensemble.config.devices:
            continue
        graphs = [s.graph for s in rows]
        y = np.asarray([float(s.latency_ms or 0) for s in rows])
        context = tuple(replace(s, device=device + _UNSEEN) for s in fit_rows if s.device == device)
        head = _mape(predictor, graphs, DeviceContext(device), y)
        few = _mape(predictor, graphs, DeviceContext(device + _UNSEEN, samples=context), y)
        out[device] = (head, few)
    return out


def heads_to_keep(
    samples: Sequence[Sample], devices: Sequence[str], settings: FitSettings, init: Ensemble | None
) -> list[str]:
    """Devices of ``devices`` (those with enough rows for a head; ``samples`` oldest first) whose
    head is no worse than few-shot on their newest rows. When none is, the best one's head stays
    as :data:`ANCHOR_HEAD` (``[best, ANCHOR_HEAD]``) so that every device is served few-shot."""
    fit_rows, held = split_newest(samples, devices)
    if not held:
        return list(devices)
    graphs, fit_devices, targets = sample_matrix([s for s in fit_rows if s.device in devices], 1)
    data = [featurize(g) for g in graphs]
    errors = compare(fit_ensemble(data, targets, fit_devices, settings, init), fit_rows, held)
    keep = [d for d in devices if d not in errors or errors[d][0] <= errors[d][1]]
    if not keep:
        keep = [min(errors, key=lambda d: errors[d][0] / max(errors[d][1], 1e-9)), ANCHOR_HEAD]
    logger.info("head gate (head, few-shot MAPE): %s; keeping %s", errors, keep)
    return keep


def keep_devices(ensemble: Ensemble, devices: Sequence[str]) -> Ensemble:
    """The ensemble with heads for ``devices`` only (same encoder).

    ``[device, ANCHOR_HEAD]`` keeps ``device``'s head weights under the name
    :data:`ANCHOR_HEAD`, so no device has a learned head.
    """
    config = ensemble.config
    anchor = len(devices) == 2 and devices[1] == ANCHOR_HEAD
    heads = tuple(devices[:1]) if anchor else tuple(devices)
    if heads == config.devices and not anchor:
        return ensemble
    kept = replace(config, devices=heads)
    named = replace(config, devices=(ANCHOR_HEAD,)) if anchor else kept
    members = []
    for member in ensemble.members:
        model = PerfModel(kept, member.constants)
        transfer(member, model)
        if anchor:  # same weights, the row renamed
            renamed = PerfModel(named, member.constants)
            renamed.load_state_dict(model.state_dict())
            model = renamed
        members.append(model.eval())
    return Ensemble(members)
