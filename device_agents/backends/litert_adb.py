"""``litert-adb``: LiteRT's ``benchmark_model`` tool on a real Android phone over ``adb``.

Profiler: push the converted ``.tflite`` (and, once, the tool) to the phone and run
``benchmark_model`` over ``adb shell``. Parser: read the tool's log (steady-state ``count=...``
line, memory footprint). The tool prints count / avg / std / p5 / median / p95 but not raw
samples: p10 / p90 are interpolated between p5, median and p95 and recorded as such.

Settings (environment): ``PERFLOOP_AGENT_ADB_SERIAL`` (device serial, optional),
``PERFLOOP_AGENT_BENCHMARK_MODEL`` (path of ``benchmark_model`` on the phone, default
``/data/local/tmp/benchmark_model``), ``PERFLOOP_AGENT_LITERT_INT8`` (``1`` for the int8 model).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from device_agents.backends.base import Backend, BackendResult, UnsupportedModelError
from device_agents.convert import onnx_to_tflite
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceKind, LatencyStats

REMOTE_DIR = "/data/local/tmp/perfloop"
_STATS = re.compile(r"count=(\d+)((?:\s+\w+=[-\d.e+]+)+)")
_PEAK = re.compile(r"Overall peak memory footprint \(MB\)[^:]*:\s*([\d.]+)")
_WARMUP = re.compile(r"Num warmup runs: \[(\d+)\]")


@dataclass(frozen=True)
class BenchmarkLog:
    """What ``benchmark_model`` reported (times in milliseconds)."""

    latency_ms: LatencyStats
    peak_memory_bytes: int | None
    percentiles: str


def _interpolate(p5: float, median: float, p95: float) -> tuple[float, float]:
    # p10 lies 5/45 of the way from p5 to the median; p90 likewise from p95.
    return p5 + (median - p5) * 5 / 45, p95 - (p95 - median) * 5 / 45


def parse_benchmark_log(text: str) -> BenchmarkLog:
    """Parse a ``benchmark_model`` log (the last ``count=`` line is the timed run).

    Raises:
        UnsupportedModelError: The log has no timing line (the tool failed; its error is quoted).
    """
    matches = _STATS.findall(text)
    if not matches:
        tail = "\n".join(text.strip().splitlines()[-5:])
        raise UnsupportedModelError(f"benchmark_model reported no timings: {tail}")
    count, rest = matches[-1]
    fields = {k: float(v) for k, v in (kv.split("=") for kv in rest.split())}
    us = 1000.0
    median = fields.get("median", fields["avg"]) / us
    if {"p5", "p95"} <= fields.keys():
        p10, p90 = _interpolate(fields["p5"] / us, median, fields["p95"] / us)
        how = "p10/p90 interpolated from benchmark_model p5/median/p95"
    else:
        p10 = p90 = median
        how = "benchmark_model printed no percentiles; p10 = p90 = median"
    warmup = _WARMUP.search(text)
    stats = LatencyStats(
        median=median,
        mean=fields["avg"] / us,
        std=fields.get("std", 0.0) / us,
        p10=p10,
        p90=p90,
        n_runs=int(count),
        warmup_runs=int(warmup.group(1)) if warmup else 0,
        raw_samples_ms=None,
    )
    peak = _PEAK.search(text)
    peak_bytes = int(float(peak.group(1)) * 1024 * 1024) if peak else None
    return BenchmarkLog(stats, peak_bytes, how)


class LiteRTAdbBackend(Backend):
    """Measure on an Android phone with LiteRT's ``benchmark_model`` over adb."""

    name: ClassVar[str] = "litert-adb"
    device_kind: ClassVar[DeviceKind] = "phone"
    simulated: ClassVar[bool] = False
    runtime: ClassVar[str] = "litert-benchmark_model"

    def __init__(self) -> None:
        self.serial = os.environ.get("PERFLOOP_AGENT_ADB_SERIAL")
        self.tool = os.environ.get(
            "PERFLOOP_AGENT_BENCHMARK_MODEL", "/data/local/tmp/benchmark_model"
        )
        self.int8 = os.environ.get("PERFLOOP_AGENT_LITERT_INT8", "0") == "1"

    def _adb(self, *args: str, timeout_s: float = 600) -> str:
        if shutil.which("adb") is None:
            raise RuntimeError("adb is not installed (apt-get install adb) or not on PATH")
        cmd = ["adb", *(["-s", self.serial] if self.serial else []), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout}")
        return done.stdout

    def describe(self) -> dict[str, Any]:
        """Phone model, SoC, Android version (read over adb)."""
        props = {
            key: self._adb("shell", "getprop", prop).strip()
            for key, prop in (
                ("model", "ro.product.model"),
                ("soc", "ro.soc.model"),
                ("android", "ro.build.version.release"),
                ("abi", "ro.product.cpu.abi"),
            )
        }
        return {"backend": self.name, "runtime_version": "benchmark_model", **props}

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Convert, push, run ``benchmark_model`` on the phone, parse its log."""
        model = onnx_to_tflite(onnx_bytes, int8=self.int8)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "model.tflite"
            local.write_bytes(model.data)
            self._adb("shell", "mkdir", "-p", REMOTE_DIR)
            self._adb("push", str(local), f"{REMOTE_DIR}/model.tflite")
        log = self._adb(
            "shell",
            self.tool,
            f"--graph={REMOTE_DIR}/model.tflite",
            f"--num_threads={protocol.threads}",
            f"--warmup_runs={protocol.warmup_runs}",
            f"--num_runs={protocol.min_runs}",
            f"--min_secs={protocol.min_time_s}",
            "--use_xnnpack=true",
            "--report_peak_memory_footprint=true",
        )
        parsed = parse_benchmark_log(log)
        return BackendResult(
            measurement_kind="measured",
            runtime=self.runtime,
            runtime_version="benchmark_model",
            threads=protocol.threads,
            latency_ms=parsed.latency_ms,
            peak_memory_bytes=parsed.peak_memory_bytes,
            flash_bytes=len(model.data),
            extra={
                "percentiles": parsed.percentiles,
                "precision": "int8" if self.int8 else "float32",
            },
        )
