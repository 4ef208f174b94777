"""The API process killed (SIGKILL) and restarted twice while real ort-cpu agents complete jobs:
results that could not go up wait in the agents' spools and are re-sent once the API is back;
every job is done exactly once, with one measurement, and no spool is left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.models import Job
from tests.reliability.agents import (
    agent_command,
    agent_env,
    assert_spools_empty,
    check_each_job_once,
    open_jobs,
    queue_jobs,
    wait_for,
)
from tests.reliability.stack import Stack, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

JOBS = 60
AGENTS = 2
LEASE_S = 5
DEVICE = "ort-cpu-restart"
#: The agents give up on a request after ~0.6 s (3 attempts), so a result finished while the
#: API is down (DOWN_S) stays in the spool instead of waiting inside the HTTP client.
FAST_GIVE_UP = {
    "PERFLOOP_AGENT_RETRY_MAX_ATTEMPTS": "3",
    "PERFLOOP_AGENT_RETRY_INITIAL_S": "0.2",
    "PERFLOOP_AGENT_RETRY_MAX_S": "0.4",
}
DOWN_S = 3.0


def done_jobs(stack: Stack) -> int:
    with stack.db.session() as session:
        count = session.scalar(select(func.count()).select_from(Job).where(Job.status == "done"))
    return int(count or 0)


def done_at_least(stack: Stack, n: float) -> Callable[[], bool]:
    return lambda: done_jobs(stack) >= n


def test_api_restarts_during_uploads_lose_and_duplicate_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    stack.env["PERFLOOP_JOB_LEASE_SECONDS"] = str(LEASE_S)
    port = free_port()
    url = stack.start_replica(port)
    queue_jobs(stack, DEVICE, JOBS)
    spools = [tmp_path / f"spool{i}" for i in range(AGENTS)]
    agents = [
        stack.spawn(
            agent_command(spools[i], DEVICE),
            f"agent{i}.log",
            **agent_env(url, stack.token("agent", DEVICE), LEASE_S, min_time_s=0.3),
            **FAST_GIVE_UP,
        )
        for i in range(AGENTS)
    ]
    for fraction in (0.25, 0.5):
        wait_for(done_at_least(stack, JOBS * fraction), 180, f"{fraction:.0%} of the jobs done")
        stack.stop_replica(url, kill=True)
        time.sleep(DOWN_S)
        stack.start_replica(port)  # same address: the agents carry on against it
    wait_for(lambda: open_jobs(stack) == 0, 180, "every job to finish")
    for agent in agents:
        agent.terminate()
    assert [agent.wait(timeout=60) for agent in agents] == [0] * AGENTS
    assert check_each_job_once(stack) == {"done": JOBS}
    assert_spools_empty(spools)
    logs = "".join((tmp_path / f"agent{i}.log").read_text() for i in range(AGENTS))
    assert "stays in the spool" in logs  # the outage did catch results on their way up
