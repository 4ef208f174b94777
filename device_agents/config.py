"""Settings of the agent program (env prefix ``PERFLOOP_AGENT_``), read via a cached getter."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """Everything the agent program can be configured with.

    Attributes:
        server: Base URL of the perfloop service (``/api/v1`` is appended).
        token: Bearer token of the agent.
        spool_dir: Directory where results wait until the server has acknowledged them.
        lease_seconds: Lease length asked for when leasing a job.
        heartbeat_interval_s: Seconds between heartbeats while a job is measured.
        poll_interval_s: Seconds between lease attempts when the queue is empty (not ``--once``).
        http_timeout_s: Timeout of one HTTP request.
        retry_max_attempts: Attempts per request before a result is left in the spool.
        retry_initial_s: First back-off delay; doubles per attempt.
        retry_max_s: Longest back-off delay.
        isolate: Run each backend profile in a subprocess so a crash cannot kill the agent.
        profile_timeout_s: Kill a profiling subprocess that runs longer than this.
        threads: Intra-op threads of the backends.
        warmup_runs: Warm-up runs before timing.
        min_runs: Minimum timed runs.
        min_time_s: Minimum total timed seconds.
        max_runs: Most timed runs of one series (a tiny model reaches it before ``min_time_s``).
        max_cv: Re-measure when the coefficient of variation exceeds this.
        max_remeasure: How many times to re-measure at most.
        cpu_affinity: CPUs to pin the measuring process to (empty: no pinning).
        clock: ``wall`` (default) or ``thread_cpu`` (see :class:`MeasurementProtocol`).
    """

    model_config = SettingsConfigDict(env_prefix="PERFLOOP_AGENT_", extra="ignore")

    server: str = "http://127.0.0.1:8000"
    token: str = ""
    spool_dir: Path = Path.home() / ".cache" / "perfloop" / "agent-spool"
    lease_seconds: int = Field(default=120, ge=2, le=86400)
    heartbeat_interval_s: float = Field(default=20.0, gt=0)
    poll_interval_s: float = Field(default=5.0, gt=0)
    http_timeout_s: float = Field(default=30.0, gt=0)
    retry_max_attempts: int = Field(default=6, ge=1)
    retry_initial_s: float = Field(default=0.5, ge=0)
    retry_max_s: float = Field(default=30.0, ge=0)
    isolate: bool = True
    profile_timeout_s: float = Field(default=1800.0, gt=0)
    threads: int = Field(default=1, ge=1)
    warmup_runs: int = Field(default=10, ge=0)
    min_runs: int = Field(default=50, ge=1)
    min_time_s: float = Field(default=1.0, ge=0)
    max_runs: int = Field(default=100_000, ge=1)
    max_cv: float = Field(default=0.10, gt=0)
    max_remeasure: int = Field(default=3, ge=0)
    cpu_affinity: list[int] = Field(default_factory=list)
    clock: Literal["wall", "thread_cpu"] = "wall"


@lru_cache(maxsize=1)
def get_settings() -> AgentSettings:
    """Return the agent settings, read from the environment once."""
    return AgentSettings()
