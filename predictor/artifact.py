"""Versioned predictor artifacts: a directory with member weights and JSON metadata.

Layout: ``metadata.json`` (format, version, IR version, feature constants, model config,
devices, training-data fingerprint, metrics, per-device noise, few-shot config, created_at) and
``member_<i>.pt`` (state dicts). :func:`load_artifact` refuses another IR version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from predictor.ensemble import Ensemble
from predictor.features.featurizer import FeatureConstants
from predictor.fewshot import FewShotConfig
from predictor.ir.schema import IR_VERSION, IRVersionError
from predictor.models.perf_model import ModelConfig, PerfModel

ARTIFACT_FORMAT = 1
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class ArtifactInfo:
    """Everything an artifact records besides the weights."""

    version: str
    fingerprint: str
    metrics: dict[str, Any] = field(default_factory=dict)
    noise_std: dict[str, dict[str, float]] = field(default_factory=dict)
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def save_artifact(ensemble: Ensemble, info: ArtifactInfo, path: Path) -> Path:
    """Write ``ensemble`` and ``info`` to the directory ``path`` (created; must be empty).

    Raises:
        FileExistsError: ``path`` exists and is not empty.
    """
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"artifact directory {path} is not empty")
    path.mkdir(parents=True, exist_ok=True)
    first = ensemble.members[0]
    meta = {
        "format": ARTIFACT_FORMAT,
        "version": info.version,
        "ir_version": IR_VERSION,
        "created_at": info.created_at,
        "feature_constants": first.constants.to_dict(),
        "model_config": first.config.to_dict(),
        "devices": list(first.config.devices),
        "members": len(ensemble.members),
        "training_data_fingerprint": info.fingerprint,
        "metrics": info.metrics,
        "noise_std": info.noise_std,
        "fewshot": info.fewshot.to_dict(),
    }
    for i, member in enumerate(ensemble.members):
        torch.save(member.state_dict(), path / f"member_{i}.pt")
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    """Parsed ``metadata.json`` after the format and IR-version checks.

    Raises:
        FileNotFoundError: no artifact at ``path``.
        IRVersionError: the artifact was built for another IR version.
    """
    meta_path = Path(path) / METADATA_FILE
    if not meta_path.exists():
        raise FileNotFoundError(f"no predictor artifact at {path} (missing {METADATA_FILE})")
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    if meta.get("ir_version") != IR_VERSION:
        raise IRVersionError(
            f"artifact {path} was built for IR version {meta.get('ir_version')!r}; "
            f"this predictor reads IR version {IR_VERSION}"
        )
    if meta.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"artifact format {meta.get('format')!r} is not {ARTIFACT_FORMAT}")
    return meta


def load_ensemble(path: Path) -> tuple[Ensemble, dict[str, Any]]:
    """The ensemble and metadata stored at ``path`` (see :func:`read_metadata` for errors)."""
    meta = read_metadata(path)
    config = ModelConfig.from_dict(meta["model_config"])
    constants = FeatureConstants.from_dict(meta["feature_constants"])
    members: list[PerfModel] = []
    for i in range(int(meta["members"])):
        model = PerfModel(config, constants)
        state = torch.load(Path(path) / f"member_{i}.pt", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        members.append(model)
    return Ensemble(members), meta


def load_artifact(path: Path) -> Any:
    """A :class:`predictor.api.Predictor` for the artifact at ``path``.

    Raises:
        FileNotFoundError: no artifact at ``path``.
        IRVersionError: the artifact was built for another IR version.
    """
    from predictor.ensemble_predictor import EnsemblePredictor

    ensemble, meta = load_ensemble(Path(path))
    return EnsemblePredictor(ensemble, meta)
