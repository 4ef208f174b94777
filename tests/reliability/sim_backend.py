"""A test-only agent backend: a simulated measurement in a few milliseconds.

Used by the reliability tests, which are about the job protocol (leases, spool, idempotency),
not about timing models; it is loaded with ``--backend tests.reliability.sim_backend:SimBackend``
and never registered in ``device_agents.backends.registry``. Every result is labelled
``measurement_kind="simulated"`` and carries a ``profile_id`` (a uuid per profile call) in its
environment, so a test can tell one result stored twice from two results of the same model.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid
from typing import Any

from device_agents.backends.base import Backend, BackendResult, simulated_latency
from device_agents.protocol import MeasurementProtocol

#: Where the reliability tests point ``--backend``.
SIM_BACKEND = "tests.reliability.sim_backend:SimBackend"


class SimBackend(Backend):
    """Sleeps ``PERFLOOP_TEST_SIM_SECONDS`` (``lo,hi``; default 0.01-0.05 s), returns a latency
    derived from the model's bytes."""

    name = "test-sim"
    device_kind = "cpu"
    simulated = True
    runtime = "test-sim"

    def __init__(self) -> None:
        lo, hi = os.environ.get("PERFLOOP_TEST_SIM_SECONDS", "0.01,0.05").split(",")
        self.seconds = (float(lo), float(hi))

    def describe(self) -> dict[str, Any]:
        """A device description that says it is a test double."""
        return {"runtime": self.runtime, "test_only": True}

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Sleep a random while, then return a deterministic simulated latency."""
        time.sleep(random.uniform(*self.seconds))
        digest = hashlib.sha256(onnx_bytes).digest()
        latency_ms = 1.0 + int.from_bytes(digest[:2], "big") / 1000
        return BackendResult(
            measurement_kind="simulated",
            runtime=self.runtime,
            runtime_version="0",
            latency_ms=simulated_latency(latency_ms),
            extra={"profile_id": uuid.uuid4().hex},
        )
