"""1,000 jobs across 4 real agent processes; 30 times, at random moments, a random agent that
holds a job is killed with SIGKILL and restarted on its spool. With 2-second leases: no job lost
or measured twice, every job done or failed with a reason, no result left in a spool.

The agents use the test-only simulated backend (tests/reliability/sim_backend.py): this is
about the job protocol, not about timing models.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.crud.tokens import find_principal
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
from tests.reliability.sim_backend import SIM_BACKEND
from tests.reliability.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(420)]

JOBS = 1000
AGENTS = 4
LEASE_S = 2
DEVICE = "sim-kills"
KILLS = 30


class Agents:
    """The agent processes, one spool each; every (re)start gets a token of its own, so the
    test can tell which agent holds a leased job."""

    def __init__(self, stack: Stack, url: str, spools: list[Path]) -> None:
        self.stack, self.url, self.spools = stack, url, spools
        self.procs: list[subprocess.Popen[bytes]] = []
        self.token_ids: list[int] = []
        for i in range(len(spools)):
            self.procs.append(self._spawn(i))

    def _spawn(self, i: int) -> subprocess.Popen[bytes]:
        raw = self.stack.token("agent", DEVICE)
        with self.stack.db.session() as session:
            principal = find_principal(session, raw)
        assert principal is not None
        self.token_ids[i : i + 1] = [principal.token_id]
        env = {**agent_env(self.url, raw, LEASE_S), "PERFLOOP_TEST_SIM_SECONDS": "0.1,0.2"}
        command = agent_command(self.spools[i], DEVICE, SIM_BACKEND)
        return self.stack.spawn(command, f"agent{i}.log", **env)

    def holding_a_job(self) -> list[int]:
        """The agents whose current process holds a leased job."""
        with self.stack.db.session() as session:
            query = select(Job.leased_by).where(Job.status == "leased")
            holders = set(session.scalars(query))
        return [i for i, token_id in enumerate(self.token_ids) if token_id in holders]

    def kill_and_restart(self, i: int) -> None:
        """SIGKILL agent ``i`` and start a new one on the same spool (it re-sends what is left)."""
        self.procs[i].kill()
        self.procs[i].wait(timeout=30)
        self.procs[i] = self._spawn(i)

    def stop(self) -> list[int]:
        """SIGTERM every agent (a clean stop flushes the spool; exit 0 only when it is empty)."""
        for proc in self.procs:
            proc.terminate()
        return [proc.wait(timeout=60) for proc in self.procs]


def test_random_kills_lose_and_duplicate_nothing(stack: Stack, tmp_path: Path) -> None:
    stack.env["PERFLOOP_JOB_LEASE_SECONDS"] = str(LEASE_S)  # heartbeats extend by this much
    url = stack.start_replica()
    queue_jobs(stack, DEVICE, JOBS)
    spools = [tmp_path / f"spool{i}" for i in range(AGENTS)]
    agents = Agents(stack, url, spools)
    rng = random.Random(8)
    kills = 0
    while kills < KILLS and open_jobs(stack):  # then the agents finish the queue unharmed
        time.sleep(rng.uniform(0.2, 1.5))
        busy = agents.holding_a_job()  # mid-job: measuring, spooling or uploading
        if busy:
            agents.kill_and_restart(rng.choice(busy))
            kills += 1
    wait_for(lambda: open_jobs(stack) == 0, 240, "the queue to drain")
    assert agents.stop() == [0] * AGENTS
    statuses = check_each_job_once(stack)
    assert sum(statuses.values()) == JOBS and statuses["done"] > 0
    assert_spools_empty(spools)
    with stack.db.session() as session:
        retried = session.scalar(select(func.count()).select_from(Job).where(Job.attempts > 1))
    assert kills == KILLS and retried  # leases of killed agents expired and went to others
