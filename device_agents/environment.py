"""What the agent records about the machine it measures on."""

from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

import psutil


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """Return the CPU model name (``/proc/cpuinfo`` on Linux, ``platform`` elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def clock_mhz() -> float | None:
    """Return the current CPU clock in MHz from psutil, or None where it cannot be read."""
    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError):
        return None
    return float(freq.current) if freq is not None and freq.current else None


def host_hardware() -> dict[str, object]:
    """Describe the host: CPU model, clock, core counts, memory, OS."""
    return {
        "cpu": cpu_model(),
        "clock_mhz": clock_mhz(),
        "logical_cpus": psutil.cpu_count(logical=True),
        "physical_cpus": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "os": platform.platform(),
        "python": platform.python_version(),
    }
