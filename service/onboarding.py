"""Onboarding: a device that has never been given work gets the reference architectures queued.

The references (``predictor.api.reference_specs``) span each space's MAC range;
their measurements are the device's hardware descriptor for few-shot prediction. Until a device
has enough data its predictions come back flagged ``low_confidence`` (the predictor decides).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from service.crud import devices as device_crud
from service.crud import jobs as job_crud
from service.ingest import ingest_onnx
from service.state import AppState

logger = logging.getLogger(__name__)

#: Reference jobs go before anything else a device is asked to measure.
REFERENCE_PRIORITY = 100


def new_devices(state: AppState) -> list[str]:
    """Devices with neither a job nor a measurement."""
    with state.db.session() as session:
        return device_crud.without_work(session)


def reference_models(state: AppState, spaces: Sequence[str] | None) -> list[str]:
    """Model ids of the reference architectures of ``spaces`` (all spaces when None).

    Each spec is exported to ONNX and stored once (later calls cost one lookup per model).
    """
    from predictor.api import get_space, reference_specs

    ids: list[str] = []
    for space, specs in reference_specs().items():
        if spaces is not None and space not in spaces:
            continue
        for spec in specs:
            ids.append(store_spec(state, space, spec, get_space))
    return ids


def store_spec(state: AppState, space: str, spec: Any, get_space: Any) -> str:
    """Export ``spec`` of ``space`` to ONNX and store it; returns the model id."""
    data = get_space(space).to_onnx(spec)
    model, _ = ingest_onnx(state, data, space=space, spec=spec)
    return model.id


def onboard(state: AppState, spaces: Sequence[str] | None = None) -> dict[str, int]:
    """Queue the reference architectures on every new device; returns device -> jobs queued."""
    devices = new_devices(state)
    if not devices:
        return {}
    model_ids = reference_models(state, spaces)
    queued: dict[str, int] = {}
    with state.db.session(write=True) as session:
        for device in devices:
            for mid in model_ids:
                job_crud.enqueue_one(
                    session, device, mid, REFERENCE_PRIORITY, state.settings.job_max_attempts
                )
            queued[device] = len(model_ids)
    for device, count in queued.items():
        logger.info("onboarded %s: %d reference architectures queued", device, count)
    return queued
