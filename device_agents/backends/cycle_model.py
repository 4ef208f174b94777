"""The Cortex-M per-operator cycle model (coefficients in ``data/cortex_m_cycles.json``).

Used by the ``tflm`` backend for latency and energy: TFLite Micro on the host gives exact arena
and flash bytes but not MCU timings. All numbers from here are *simulated*.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from device_agents.convert import OpStats

COEFFICIENTS = ("overhead_cycles", "cycles_per_mac", "cycles_per_output", "cycles_per_input")


@dataclass(frozen=True)
class Target:
    """One MCU: clock, power, memories and per-op coefficients."""

    name: str
    clock_mhz: float
    active_power_mw: float
    sram_bytes: int
    flash_bytes: int
    ops: dict[str, dict[str, float]]
    default: dict[str, float]

    def op_cycles(self, op: OpStats) -> float:
        """Cycles of one operator."""
        c = self.ops.get(op.opcode, self.default)
        return (
            c["overhead_cycles"]
            + c["cycles_per_mac"] * op.macs
            + c["cycles_per_output"] * op.output_elements
            + c["cycles_per_input"] * op.input_elements
        )

    def cycles(self, ops: Sequence[OpStats]) -> float:
        """Cycles of a whole model."""
        return float(sum(self.op_cycles(op) for op in ops))

    def latency_ms(self, cycles: float) -> float:
        """Milliseconds at the target's clock."""
        return cycles / (self.clock_mhz * 1e3)

    def energy_mj(self, latency_ms: float) -> float:
        """Millijoules at the target's active power."""
        return self.active_power_mw * latency_ms / 1e3


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("device_agents").joinpath("data/cortex_m_cycles.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def target_names() -> list[str]:
    """Names of the modelled MCUs."""
    return sorted(_data()["targets"])


def load_target(name: str, data: dict[str, Any] | None = None) -> Target:
    """Build a target (resolving ``scale_of``: coefficients scaled from another target).

    Raises:
        KeyError: Unknown target; the message lists the valid ones.
    """
    targets = (data or _data())["targets"]
    if name not in targets:
        raise KeyError(f"unknown MCU target {name!r}; valid: {', '.join(sorted(targets))}")
    spec = targets[name]
    if "scale_of" in spec:
        base = load_target(spec["scale_of"], data)
        scale = spec["scale"]
        ops = {op: {k: v * scale[k] for k, v in c.items()} for op, c in base.ops.items()}
        default = {k: v * scale[k] for k, v in base.default.items()}
    else:
        ops, default = spec["ops"], spec["default"]
    return Target(
        name,
        spec["clock_mhz"],
        spec["active_power_mw"],
        spec["sram_bytes"],
        spec["flash_bytes"],
        ops,
        default,
    )


def calibrate(target: Target, samples: Sequence[tuple[Sequence[OpStats], float]]) -> Target:
    """Fit one scale factor of all cycle coefficients to measured board latencies.

    Args:
        target: The uncalibrated target.
        samples: ``(op_stats of a model, measured latency in ms on the real board)`` pairs.

    Returns:
        The target with every coefficient multiplied by the least-squares scale.

    Raises:
        ValueError: No samples.
    """
    if not samples:
        raise ValueError("calibration needs at least one measured model")
    predicted = np.array([target.latency_ms(target.cycles(ops)) for ops, _ in samples])
    measured = np.array([ms for _, ms in samples])
    scale = float(predicted @ measured / (predicted @ predicted))
    ops = {op: {k: v * scale for k, v in c.items()} for op, c in target.ops.items()}
    default = {k: v * scale for k, v in target.default.items()}
    return Target(
        target.name,
        target.clock_mhz,
        target.active_power_mw,
        target.sram_bytes,
        target.flash_bytes,
        ops,
        default,
    )
