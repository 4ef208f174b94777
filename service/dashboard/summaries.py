"""A predictor version's ``metrics`` JSON and a device's agent set-up, as tables a person reads.

The version row's metrics (written by :mod:`service.training_round`) hold per-device held-out scores
(``per_device``, and ``active_per_device``: the version it was compared with, on the same
rows) and a few scalars. Dumping them as dotted keys ("active_per_device.dev.mape") and
fractions next to percentages is what this module replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Device, Measurement

#: Top-level scalars of a version's metrics, with the label they are shown under.
SCALAR_LABELS = {
    "train_samples": "Training measurements",
    "holdout_samples": "Held-out measurements",
    "compared_with": "Compared with version",
    "warm_start_from": "Warm-started from",
    "max_measurement_id": "Newest measurement id seen",
}


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Held-out latency scores of one version on one device (percentages in %)."""

    n: int | None
    mape_pct: float | None
    spearman: float | None
    acc_10_pct: float | None
    coverage_pct: float | None


def _number(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pct(values: dict[str, Any], key: str) -> float | None:
    value = _number(values, key)
    return None if value is None else 100.0 * value


def held_out(table: Any) -> dict[str, HeldOut]:
    """Device -> scores from a ``per_device``-shaped dict (fractions become percentages)."""
    if not isinstance(table, dict):
        return {}
    out = {}
    for device, values in table.items():
        if isinstance(values, dict):
            count = _number(values, "count")
            out[str(device)] = HeldOut(
                n=None if count is None else int(count),
                mape_pct=_pct(values, "mape"),
                spearman=_number(values, "spearman"),
                acc_10_pct=_pct(values, "acc_10"),
                coverage_pct=_pct(values, "coverage_90"),
            )
    return out


def held_out_by_device(metrics: dict[str, Any]) -> dict[str, HeldOut]:
    """This version's held-out scores per device (``per_device``, or ``devices``)."""
    return held_out(metrics.get("per_device") or metrics.get("devices"))


def version_facts(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of the version's top-level scalars, known ones first, numbers formatted."""
    facts = []
    for key, value in metrics.items():
        if isinstance(value, dict | list) or value is None:
            continue
        label = SCALAR_LABELS.get(key, key.replace("_", " ").capitalize())
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        facts.append((label, text))
    order = list(SCALAR_LABELS.values())
    return sorted(facts, key=lambda f: order.index(f[0]) if f[0] in order else len(order))


def agent_backend(session: Session, device: Device) -> str:
    """The ``--backend`` an agent of ``device`` runs with.

    Agents name devices ``<backend>-<host>`` by default (the demo: ``<backend>-local``); the
    registry name ("tflm-m7") can be longer than what a measurement records ("tflm"), so the
    name without its last segment wins when it starts with the recorded backend.
    """
    recorded = session.scalar(
        select(Measurement.backend)
        .where(Measurement.device == device.name)
        .order_by(Measurement.id.desc())
        .limit(1)
    )
    stem = device.name.rsplit("-", 1)[0] if "-" in device.name else device.name
    hinted = device.hardware.get("backend") if isinstance(device.hardware, dict) else None
    if isinstance(hinted, str) and hinted:
        return hinted
    if recorded is None or stem.startswith(str(recorded)):
        return stem
    return str(recorded)
