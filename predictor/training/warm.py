"""Warm start: new ensemble members that begin from a trained artifact's weights.

The encoder (and the feature constants it was trained with) is copied whole. Every head
parameter carries one row per device (first dimension): a device the artifact knows keeps its
row, a device it does not know keeps the fresh initialisation, a metric it has no head for gets
a fresh head.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import torch

from predictor.artifact import load_ensemble
from predictor.ensemble import Ensemble
from predictor.features.featurizer import FeatureConstants
from predictor.models.perf_model import ModelConfig, PerfModel
from predictor.types import Metric

logger = logging.getLogger(__name__)

HEADS_PREFIX = "heads."


def load_init(path: Path) -> Ensemble:
    """The ensemble of the artifact at ``path`` (see :func:`predictor.artifact.read_metadata`).

    Raises:
        FileNotFoundError: no artifact at ``path``.
        predictor.ir.schema.IRVersionError: the artifact was built for another IR version.
    """
    ensemble, _meta = load_ensemble(Path(path))
    return ensemble


def warm_config(
    init: Ensemble, devices: tuple[str, ...], metrics: tuple[Metric, ...]
) -> tuple[ModelConfig, FeatureConstants]:
    """Model config (the artifact's size, the new devices and metrics) and its constants."""
    config = replace(init.config, devices=devices, metrics=metrics)
    return config, init.members[0].constants


def _copy_rows(
    new: torch.Tensor, old: torch.Tensor, new_devices: tuple[str, ...], old_devices: tuple[str, ...]
) -> torch.Tensor:
    if new.shape[0] != len(new_devices) or old.shape[0] != len(old_devices):
        raise ValueError(
            f"head parameter of shape {tuple(new.shape)} has no per-device first dimension"
        )
    out = new.clone()
    for j, device in enumerate(new_devices):
        if device in old_devices:
            out[j] = old[old_devices.index(device)]
    return out


def transfer(source: PerfModel, target: PerfModel) -> None:
    """Copy ``source``'s encoder and its heads' rows of shared devices into ``target``.

    Raises:
        ValueError: the encoders differ in shape, or a head parameter has no device dimension.
    """
    old, new = source.state_dict(), target.state_dict()
    old_devices, new_devices = source.config.devices, target.config.devices
    for key, value in new.items():
        if not key.startswith(HEADS_PREFIX):
            if old[key].shape != value.shape:
                raise ValueError(f"cannot warm-start {key}: {old[key].shape} vs {value.shape}")
            new[key] = old[key].clone()
        elif key in old:  # a head of a metric the source was trained on
            new[key] = _copy_rows(value, old[key], new_devices, old_devices)
    target.load_state_dict(new)


def warm_member(init: Ensemble, index: int, config: ModelConfig) -> PerfModel:
    """A new member for ``config`` starting from member ``index`` (modulo) of ``init``."""
    source = init.members[index % len(init.members)]
    model = PerfModel(config, source.constants)
    transfer(source, model)
    known = sorted(set(config.devices) & set(source.config.devices))
    logger.info("member %d warm-started; heads kept for %s", index, known)
    return model
