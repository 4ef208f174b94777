"""The agent loop: register the device, lease jobs, measure, spool, upload, repeat."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from device_agents import __version__
from device_agents.backends.base import BackendResult, UnsupportedModelError
from device_agents.client import (
    AgentClient,
    ApiError,
    LeaseLostError,
    ServerUnavailableError,
)
from device_agents.environment import clock_mhz, cpu_model
from device_agents.graph_only import synthesize_weights
from device_agents.heartbeat import Heartbeat
from device_agents.isolation import BackendCrashError, BackendRunner, ProfileCancelledError
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceIn, Environment, Job, Measurement
from device_agents.spool import Spool, SpoolEntry

logger = logging.getLogger(__name__)


class Agent:
    """One agent: one device, one backend.

    Args:
        client: HTTP client of the service.
        runner: Runs the backend (isolated or not).
        device: Name of the device the agent measures for.
        spool: Where results wait for upload.
        protocol: How to time models.
        lease_seconds: Lease length asked for.
        heartbeat_interval_s: Seconds between heartbeats.
        poll_interval_s: Seconds between lease attempts on an empty queue.
    """

    def __init__(
        self,
        client: AgentClient,
        runner: BackendRunner,
        device: str,
        spool: Spool,
        protocol: MeasurementProtocol,
        lease_seconds: int = 120,
        heartbeat_interval_s: float = 20.0,
        poll_interval_s: float = 5.0,
    ) -> None:
        self.client = client
        self.runner = runner
        self.device = device
        self.spool = spool
        self.protocol = protocol
        self.lease_seconds = lease_seconds
        self.heartbeat_interval_s = heartbeat_interval_s
        self.poll_interval_s = poll_interval_s
        self.stop = runner.stop
        self.completed = 0
        self.failed = 0

    def request_stop(self) -> None:
        """Ask the loop to stop: the current job is released, the spool flushed."""
        self.stop.set()

    def register_device(self) -> None:
        """Create or update the device with the backend's description."""
        backend = self.runner.backend
        hardware = {**backend.describe(), "agent_version": __version__}
        self.client.upsert_device(
            DeviceIn(
                name=self.device,
                kind=backend.device_kind,
                runtime=backend.runtime,
                simulated=backend.simulated,
                hardware=hardware,
            )
        )

    def run(self, once: bool = False) -> int:
        """Process jobs until stopped (or, with ``once``, until the queue is empty).

        Returns:
            The number of results still in the spool at exit (0: all uploaded).
        """
        while not self._try_register():
            if once or self.stop.is_set():
                return len(self.spool)
            self.stop.wait(self.poll_interval_s)
        self.flush_spool()
        while not self.stop.is_set():
            if len(self.spool):  # results left by an outage go up as soon as the server is back
                self.flush_spool()
            try:
                jobs = self.client.lease(self.device, 1, self.lease_seconds)
            except ServerUnavailableError as exc:
                if once:
                    logger.error("server unavailable: %s", exc)
                    break
                logger.warning("server unavailable, retrying later: %s", exc)
                self.stop.wait(self.poll_interval_s)
                continue
            if not jobs:
                if once:
                    break
                self.stop.wait(self.poll_interval_s)
                continue
            for job in jobs:
                self.process(job)
        return self.flush_spool()

    def _try_register(self) -> bool:
        try:
            self.register_device()
        except ServerUnavailableError as exc:
            logger.warning("cannot register the device yet: %s", exc)
            return False
        return True

    def process(self, job: Job) -> None:
        """Measure one leased job and upload (or spool) its result; never raises for job errors."""
        try:
            onnx_bytes = self.client.model_onnx(job.model_id)
        except (ApiError, ServerUnavailableError) as exc:
            self._fail(job, f"cannot download model {job.model_id}: {exc}", retryable=True)
            return
        key = uuid.uuid4().hex
        with Heartbeat(self.client, job.id, self.heartbeat_interval_s) as heartbeat:
            try:
                onnx_bytes, synthesized = synthesize_weights(onnx_bytes, seed=0)
                result = self.runner.profile(onnx_bytes, self.protocol)
            except UnsupportedModelError as exc:
                self._fail(job, f"unsupported model: {exc.reason}", retryable=False)
                return
            except BackendCrashError as exc:
                self._fail(job, str(exc), retryable=False)
                return
            except ProfileCancelledError:
                self._fail(job, "agent stopping; job released", retryable=True)
                return
        if heartbeat.lease_lost.is_set():
            logger.warning("job %s: lease lost while measuring; completing it if open", job.id)
        if synthesized is not None:  # a graph-only upload ran on seeded random weights
            result = result.model_copy(
                update={"extra": {**result.extra, "synthesized_weights": synthesized}}
            )
        measurement = self.build_measurement(job.model_id, key, result)
        entry = SpoolEntry(job_id=job.id, measurement=measurement)
        self.spool.put(entry)
        self._upload(entry)

    def build_measurement(self, model_id: str, key: str, result: BackendResult) -> Measurement:
        """Turn a backend result into the wire measurement, recording the environment."""
        backend = self.runner.backend
        environment = Environment(
            backend=backend.name,
            runtime=result.runtime,
            runtime_version=result.runtime_version,
            threads=result.threads,
            cpu=result.cpu or cpu_model(),
            clock_mhz=result.clock_mhz if result.clock_mhz is not None else clock_mhz(),
            agent_version=__version__,
            extra={**result.extra, "protocol_clock": self.protocol.clock}
            if result.measurement_kind == "measured"
            else result.extra,
        )
        return Measurement(
            model_id=model_id,
            device=self.device,
            idempotency_key=key,
            measurement_kind=result.measurement_kind,
            latency_ms=result.latency_ms,
            energy_mj=result.energy_mj,
            peak_memory_bytes=result.peak_memory_bytes,
            flash_bytes=result.flash_bytes,
            environment=environment,
            measured_at=datetime.now(UTC),
        )

    def flush_spool(self) -> int:
        """Upload every spooled result; stop at the first unreachable server.

        Returns:
            How many results are still in the spool.
        """
        for entry in list(self.spool.pending()):
            if not self._upload(entry):
                break
        return len(self.spool)

    def _upload(self, entry: SpoolEntry) -> bool:
        key = entry.measurement.idempotency_key
        try:
            if entry.job_id is not None:
                try:
                    self.client.complete(entry.job_id, entry.measurement)
                    self.completed += 1
                except LeaseLostError:
                    self._upload_late(entry.job_id, entry.measurement)
            else:
                self.client.upload(entry.measurement)
        except ServerUnavailableError as exc:
            logger.warning("result %s stays in the spool: %s", key, exc)
            return False
        except ApiError as exc:
            logger.error("server rejected result %s: %s; moved to rejected/", key, exc)
            self._reject(key)
            return True
        self.spool.remove(key)
        return True

    def _upload_late(self, job_id: int, measurement: Measurement) -> None:
        """A result for a job that finished without it (another agent's result completed it
        after a lease expiry, or it failed): dropped when the job is done, so that each job keeps
        exactly one measurement; otherwise (failed job, or its state unknown) kept as a plain
        measurement."""
        try:
            status = self.client.job(job_id).status
        except ApiError as exc:
            logger.warning("job %s: state unknown (%s); uploading as a measurement", job_id, exc)
            status = "unknown"
        if status == "done":
            logger.warning("job %s: already completed by another agent; result dropped", job_id)
            return
        logger.warning("job %s is %s; uploading the result as a measurement", job_id, status)
        self.client.upload(measurement)

    def _reject(self, key: str) -> None:
        rejected = Path(self.spool.directory) / "rejected"
        rejected.mkdir(exist_ok=True)
        source = self.spool.directory / f"{key}.json"
        if source.exists():
            source.replace(rejected / source.name)

    def _fail(self, job: Job, reason: str, retryable: bool) -> None:
        self.failed += 1
        logger.warning("job %s failed (retryable=%s): %s", job.id, retryable, reason)
        try:
            self.client.fail(job.id, reason, retryable=retryable)
        except (ApiError, ServerUnavailableError) as exc:
            logger.error("could not report failure of job %s (lease will expire): %s", job.id, exc)


def install_signal_handlers(agent: Agent) -> None:
    """Make SIGTERM and SIGINT stop the agent cleanly (main thread only)."""
    import signal

    def _handler(signum: int, frame: object) -> None:
        logger.info("signal %s: stopping after releasing the current job", signum)
        agent.request_stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)
