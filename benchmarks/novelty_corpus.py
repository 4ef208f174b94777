"""A small cross-family measured corpus for the novelty benchmark: ort-cpu on this host.

Per search space (= family), ``per_space`` random specs (seeded) are exported to ONNX and timed
with onnxruntime's CPU provider, one thread, on the calling thread's CPU clock (repeatable on a
shared machine), then appended as :class:`predictor.data.zoo.ZooRecord` lines, so the measured
zoo corpus and this one read the same way. Resumable: specs already in the file are skipped.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from device_agents.backends.base import UnsupportedModelError
from device_agents.backends.ort_cpu import OrtCpuBackend
from device_agents.environment import host_hardware
from device_agents.protocol import MeasurementProtocol
from predictor.data.zoo import ZooRecord, append_records, measured_keys
from predictor.spaces.registry import SPACES, get_space

logger = logging.getLogger(__name__)

DEVICE = "ort-cpu-novelty"
#: Short protocol: the corpus needs many networks more than tight single figures.
PROTOCOL = MeasurementProtocol(
    warmup_runs=2, min_runs=10, min_time_s=0.2, max_time_s=5.0, clock="thread_cpu"
)


def measure_corpus(path: Path, per_space: int, seed: int = 0) -> int:
    """Measure ``per_space`` random specs of every space into ``path``; records written."""
    backend = OrtCpuBackend()
    hw = host_hardware()
    done = measured_keys([path])
    written = 0
    for space_name in SPACES:
        space = get_space(space_name)
        rng = random.Random(f"{seed}-{space_name}")
        for _ in range(per_space):
            spec = space.sample(rng)
            key = space.encode(spec)
            if (space_name, key, DEVICE) in done:
                continue
            start = time.perf_counter()
            try:
                result = backend.profile(space.to_onnx(spec), PROTOCOL)
            except (UnsupportedModelError, ValueError, RuntimeError) as exc:
                logger.warning("%s %s: %s", space_name, key, exc)
                continue
            assert result.latency_ms is not None
            record = ZooRecord(
                space=space_name,
                spec=spec,
                spec_key=key,
                device=DEVICE,
                backend=backend.name,
                measurement_kind="measured",
                runtime=result.runtime,
                runtime_version=result.runtime_version,
                clock=PROTOCOL.clock,
                threads=PROTOCOL.threads,
                host_cpu=str(hw.get("cpu", "")),
                measured_at=datetime.now(UTC).isoformat(),
                latency_ms=result.latency_ms.median,
            )
            written += append_records(path, [record])
            logger.info(
                "%s %.3f ms (%.1fs)", space_name, record.latency_ms, time.perf_counter() - start
            )
    return written
