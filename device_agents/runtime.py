"""Wires settings, client, spool, backend runner and protocol into an :class:`Agent`."""

from __future__ import annotations

from pathlib import Path

from device_agents.agent import Agent
from device_agents.client import AgentClient
from device_agents.config import AgentSettings, get_settings
from device_agents.isolation import BackendRunner
from device_agents.protocol import MeasurementProtocol
from device_agents.spool import Spool


def protocol_from_settings(settings: AgentSettings) -> MeasurementProtocol:
    """Build the measurement protocol the settings describe."""
    return MeasurementProtocol(
        warmup_runs=settings.warmup_runs,
        min_runs=settings.min_runs,
        min_time_s=settings.min_time_s,
        max_runs=settings.max_runs,
        max_cv=settings.max_cv,
        max_remeasure=settings.max_remeasure,
        threads=settings.threads,
        cpu_affinity=settings.cpu_affinity,
        clock=settings.clock,
    )


def build_agent(
    backend: str,
    device: str,
    server: str | None = None,
    token: str | None = None,
    spool_dir: Path | None = None,
    isolate: bool | None = None,
    settings: AgentSettings | None = None,
) -> Agent:
    """Build an agent; explicit arguments override the settings.

    Args:
        backend: Backend name.
        device: Device name.
        server: Service URL.
        token: Agent token.
        spool_dir: Spool directory.
        isolate: Profile in a child process.
        settings: Settings (default: :func:`get_settings`).

    Returns:
        The agent, not started.
    """
    settings = settings or get_settings()
    client = AgentClient(
        server or settings.server,
        token if token is not None else settings.token,
        timeout_s=settings.http_timeout_s,
        max_attempts=settings.retry_max_attempts,
        initial_wait_s=settings.retry_initial_s,
        max_wait_s=settings.retry_max_s,
    )
    runner = BackendRunner(
        backend,
        isolate=settings.isolate if isolate is None else isolate,
        timeout_s=settings.profile_timeout_s,
    )
    return Agent(
        client=client,
        runner=runner,
        device=device,
        spool=Spool(spool_dir or settings.spool_dir),
        protocol=protocol_from_settings(settings),
        lease_seconds=settings.lease_seconds,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        poll_interval_s=settings.poll_interval_s,
    )
