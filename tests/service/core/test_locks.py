"""The trainer lock: one holder at a time, across processes, freed when the holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from service.core.config import Settings
from service.core.db import Database
from service.core.locks import ExclusiveLock, exclusive, lock_key
from service.crud import predictors as predictor_crud
from service.state import AppState
from service.worker import Worker, WorkerConfig
from tests.service.predictors import load_linear

HOLDER = textwrap.dedent(
    """
    import sys, time
    from service.core.db import make_engine
    from service.core.locks import ExclusiveLock
    lock = ExclusiveLock(make_engine(sys.argv[1]), "trainer")
    print("held" if lock.try_acquire() else "refused", flush=True)
    time.sleep(120)
    """
)


def test_lock_key_is_stable_and_distinct() -> None:
    assert lock_key("trainer") == lock_key("trainer")
    assert lock_key("trainer") != lock_key("planner")
    assert -(2**63) <= lock_key("trainer") < 2**63


def test_second_holder_is_refused_until_release(db: Database) -> None:
    first, second = ExclusiveLock(db.engine, "trainer"), ExclusiveLock(db.engine, "trainer")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert ExclusiveLock(db.engine, "other").try_acquire()  # names are independent
    first.release()
    assert second.try_acquire()
    second.release()
    assert not second.held


def test_context_manager_releases(db: Database) -> None:
    with exclusive(db.engine, "trainer") as mine:
        assert mine
        with exclusive(db.engine, "trainer") as theirs:
            assert not theirs
    with exclusive(db.engine, "trainer") as again:
        assert again


def test_lock_held_by_another_process_is_freed_when_it_is_killed(db: Database) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        lock = ExclusiveLock(db.engine, "trainer")
        assert not lock.try_acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        assert _eventually(lock.try_acquire)
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def _eventually(probe: object, attempts: int = 100) -> bool:
    """PostgreSQL notices the dead connection after the process exits; poll briefly."""
    import time

    for _ in range(attempts):
        if probe():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_worker_does_not_claim_training_while_another_holds_the_lock(
    settings: Settings,
) -> None:
    state = AppState.build(settings, load_linear)
    try:
        with state.db.session(write=True) as session:
            predictor_crud.create_train_request(session, {})
        worker = Worker(state, WorkerConfig(onboard_spaces=(), plan=False))
        with exclusive(state.db.engine, "trainer") as mine:
            assert mine
            assert worker.step().trained is None
            with state.db.session() as session:
                assert predictor_crud.get_train_request(session, 1).status == "queued"
    finally:
        state.db.dispose()
