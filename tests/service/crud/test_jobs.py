"""Job queue under concurrency: two leasers never get the same job (threads, real connections)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from service.core.config import Settings
from service.core.db import Database
from service.core.errors import Conflict
from service.crud import jobs as job_crud
from tests.service.databases import SqliteDatabases
from tests.service.factories import make_device, make_job, make_model


def test_concurrent_leasers_never_share_a_job(db: Database, settings: Settings) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        for _ in range(60):
            make_job(session, make_model(session).id)
    workers = [Database(settings.resolved_database_url) for _ in range(6)]
    per_lease = 3
    # Lockstep rounds: every worker leases once per round, all at the same moment, so the
    # contention is real on every round and no worker can drain the queue before the others
    # start (a free-running loop let one SQLite thread take all 60 jobs now and then).
    rounds = -(-60 // (len(workers) * per_lease)) + 1  # enough to drain, plus one empty round
    leased: list[list[int]] = [[] for _ in workers]
    errors: list[BaseException] = []
    step = threading.Barrier(len(workers), timeout=60)

    def run(index: int) -> None:
        try:
            for _ in range(rounds):
                step.wait()
                with workers[index].session(write=True) as session:
                    jobs = job_crud.lease(session, "dev1", per_lease, 60, leased_by=index + 1)
                    leased[index].extend(j.id for j in jobs)
        except BaseException as exc:
            errors.append(exc)
            step.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.dispose()
    assert not errors, errors
    counts = Counter(i for ids in leased for i in ids)
    assert len(counts) == 60
    assert max(counts.values()) == 1
    # The first round asks for 18 of 60 jobs, so every worker got a full lease at least once.
    assert all(len(ids) >= per_lease for ids in leased), [len(ids) for ids in leased]


def test_heartbeat_by_other_holder_conflicts(db: Database) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_job(session, make_model(session).id)
    with db.session(write=True) as session:
        (job,) = job_crud.lease(session, "dev1", 1, 60, leased_by=1)
    with db.session(write=True) as session, pytest.raises(Conflict):
        job_crud.heartbeat(session, job.id, holder=2, lease_seconds=60)
    with db.session(write=True) as session:
        assert job_crud.heartbeat(session, job.id, holder=1, lease_seconds=60).status == "leased"


def test_fail_by_an_agent_whose_lease_was_taken_over_conflicts(db: Database) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_job(session, make_model(session).id)
    with db.session(write=True) as session:
        (job,) = job_crud.lease(session, "dev1", 1, 60, leased_by=2)  # after 1's lease expired
    with db.session(write=True) as session, pytest.raises(Conflict):
        job_crud.fail(session, job.id, "stale agent stopping", retryable=True, holder=1)
    with db.session(write=True) as session:
        assert job_crud.get(session, job.id).status == "leased"  # 2's attempt goes on
        assert job_crud.fail(session, job.id, "busy", retryable=True, holder=2).status == "queued"


_LEASER = """
import sys
from service.core.db import Database
from service.crud import jobs
db = Database(sys.argv[1])
got = []
while True:
    with db.session(write=True) as session:
        ids = [j.id for j in jobs.lease(session, "dev1", 2, 60, leased_by=int(sys.argv[2]))]
    if not ids:
        break
    got.extend(ids)
db.dispose()
print(" ".join(map(str, got)))
"""


def test_sqlite_leasing_is_safe_across_processes(sqlite_databases: SqliteDatabases) -> None:
    """SQLite's BEGIN IMMEDIATE keeps separate processes apart (PostgreSQL: threads above)."""
    with sqlite_databases.fresh() as url:
        db = Database(url)
        with db.session(write=True) as session:
            make_device(session, "dev1")
            for _ in range(40):
                make_job(session, make_model(session).id)
        db.dispose()
        counts = _lease_in_processes(url, 3)
    assert len(counts) == 40 and max(counts.values()) == 1


def _lease_in_processes(url: str, n: int) -> Counter[int]:
    root = Path(__file__).resolve().parents[3]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _LEASER, url, str(i + 1)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for i in range(n)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return Counter(int(x) for out in outputs for x in out.split())


def test_heartbeat_never_shortens_a_long_lease(db: Database) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_job(session, make_model(session).id)
    with db.session(write=True) as session:
        (job,) = job_crud.lease(session, "dev1", 1, 3600, leased_by=1)
        long_expiry = job.lease_expires_at
    with db.session(write=True) as session:
        beat = job_crud.heartbeat(session, job.id, holder=1, lease_seconds=60)
        assert beat.lease_expires_at == long_expiry
    with db.session(write=True) as session:
        beat = job_crud.heartbeat(session, job.id, holder=1, lease_seconds=7200)
        assert beat.lease_expires_at is not None and long_expiry is not None
        assert beat.lease_expires_at > long_expiry
