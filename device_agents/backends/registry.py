"""The list of backends, by name. Backend modules are imported only when a backend is used.

Besides the names below, ``module:Class`` loads a backend class from any importable module (a
plugin for hardware perfloop does not ship).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from device_agents.backends.base import Backend


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend lives and how to build it."""

    module: str
    cls: str
    summary: str
    kwargs: dict[str, Any] = field(default_factory=dict)


_PKG = "device_agents.backends"

BACKENDS: dict[str, BackendEntry] = {
    "ort-cpu": BackendEntry(f"{_PKG}.ort_cpu", "OrtCpuBackend", "onnxruntime CPU, host (measured)"),
    "litert": BackendEntry(
        f"{_PKG}.litert", "LiteRTBackend", "LiteRT + XNNPACK fp32, host (measured)"
    ),
    "litert-int8": BackendEntry(
        f"{_PKG}.litert", "LiteRTBackend", "LiteRT + XNNPACK int8, host (measured)", {"int8": True}
    ),
    "litert-adb": BackendEntry(
        f"{_PKG}.litert_adb",
        "LiteRTAdbBackend",
        "LiteRT benchmark_model on an Android phone over adb (measured)",
    ),
    "tflm": BackendEntry(
        f"{_PKG}.tflm", "TflmBackend", "TFLM arena/flash + Cortex-M4 cycle model (simulated)"
    ),
    "tflm-m7": BackendEntry(
        f"{_PKG}.tflm",
        "TflmBackend",
        "TFLM + Cortex-M7 cycle model (simulated)",
        {"target": "cortex-m7"},
    ),
    "tflm-m55": BackendEntry(
        f"{_PKG}.tflm",
        "TflmBackend",
        "TFLM + Cortex-M55 cycle model (simulated)",
        {"target": "cortex-m55"},
    ),
    "zigzag": BackendEntry(
        f"{_PKG}.zigzag_backend",
        "ZigZagBackend",
        "ZigZag edge-TPU-like accelerator, latency + energy (simulated)",
    ),
    "zigzag-tpu": BackendEntry(
        f"{_PKG}.zigzag_backend",
        "ZigZagBackend",
        "ZigZag TPU-like systolic array, latency + energy (simulated)",
        {"accelerator": "tpu-like"},
    ),
}
for _cfg in ("ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u85-256"):
    BACKENDS[_cfg] = BackendEntry(
        f"{_PKG}.ethos_u",
        "EthosUBackend",
        f"Arm Vela compiler for {_cfg[6:].upper()} (simulated)",
        {"accelerator": _cfg},
    )
BACKENDS["ethos-u"] = BACKENDS["ethos-u55-128"]


def backend_names() -> list[str]:
    """Return the registered backend names, sorted."""
    return sorted(BACKENDS)


def get_backend(name: str) -> Backend:
    """Build the backend called ``name`` (or load ``module:Class``).

    Args:
        name: A registered name or ``module:Class``.

    Returns:
        A backend instance.

    Raises:
        KeyError: Unknown name; the message lists the valid ones.
    """
    if name in BACKENDS:
        entry = BACKENDS[name]
        module, cls, kwargs = entry.module, entry.cls, entry.kwargs
    elif ":" in name:
        module, cls = name.split(":", 1)
        kwargs = {}
    else:
        raise KeyError(f"unknown backend {name!r}; valid: {', '.join(backend_names())}")
    backend_cls = getattr(importlib.import_module(module), cls)
    backend: Backend = backend_cls(**kwargs)
    return backend
