"""The loop in explicit rounds (for the end-to-end test): no timer decides what gets trained.

Each round waits until every queued job is measured (or failed), asks for a training round, lets
the worker run it, measures the doubtful predictions of the active version and plans the next
batch. Every version is therefore trained on a known set of measurements: the refs after
onboarding, then each planned batch. Waiting has a deadline (agents that stall fail the run);
nothing else depends on how fast the machine is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from rich.console import Console
from sqlalchemy import func, select

from perfloop.client import Client
from perfloop.demo import (
    DemoConfig,
    DemoResult,
    held_out_comparison,
    measure_doubtful,
    measured_doubts,
    measurement_counts,
    print_result,
)
from perfloop.stack import Stack, start_agent, start_service
from service.crud import predictors as predictor_crud
from service.models import Device, Job
from service.planner import PlannerConfig, plan
from service.training_round import RetrainConfig
from service.worker import Worker, WorkerConfig

POLL_S = 0.5


def wait_until(done: Callable[[], bool], what: str, deadline: float) -> None:
    """Poll ``done()`` until true.

    Raises:
        TimeoutError: still false at ``deadline`` (monotonic seconds).
    """
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(POLL_S)


def open_jobs(stack: Stack) -> int:
    """Jobs queued or leased on any device."""
    with stack.state.db.session() as session:
        query = select(func.count()).select_from(Job).where(Job.status.in_(("queued", "leased")))
        return int(session.scalar(query) or 0)


def device_count(stack: Stack) -> int:
    """Registered devices."""
    with stack.state.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Device)) or 0)


def _worker(stack: Stack, cfg: DemoConfig) -> tuple[Worker, PlannerConfig]:
    planner = PlannerConfig(spaces=cfg.spaces, min_queue=1, batch=cfg.retrain_every)
    config = WorkerConfig(
        retrain_every=10**9,  # trains only when asked
        onboard_spaces=cfg.spaces,
        retrain=RetrainConfig(min_device_samples=cfg.min_device_samples),
        planner=planner,
        plan=False,  # planned explicitly, between rounds
    )
    return Worker(stack.state, config, seed=cfg.seed), planner


def train_round(stack: Stack, worker: Worker, result: DemoResult) -> bool:
    """Ask for a round and let the worker run it; returns whether the version was promoted.

    Raises:
        RuntimeError: the worker did not train (the request failed).
    """
    with stack.state.db.session(write=True) as session:
        predictor_crud.create_train_request(session, {})
    report = worker.step()
    if report.trained is None:
        raise RuntimeError(f"round {len(result.versions) + 1} trained nothing: {report}")
    result.versions.append((report.trained.version, report.trained.promoted))
    return report.trained.promoted


def run_rounds(cfg: DemoConfig, console: Console, rounds: int, timeout_s: float) -> DemoResult:
    """Start the stack, run ``rounds`` training rounds, score, print the table, stop.

    ``cfg.retrain_every`` is the planned batch per device between rounds.
    """
    stack = start_service(cfg.data_dir)
    result = DemoResult(stack.url, stack.client_token)
    deadline = time.monotonic() + timeout_s
    client, rng = Client(stack.url, stack.client_token), random.Random(cfg.seed)
    try:
        for backend in cfg.backends:
            start_agent(stack, backend, f"{backend}-local")
        wait_until(lambda: device_count(stack) == len(cfg.backends), "agents", deadline)
        worker, planner = _worker(stack, cfg)
        worker.step()  # onboarding: the reference architectures are queued
        for i in range(rounds):
            wait_until(lambda: open_jobs(stack) == 0, f"measurements of round {i}", deadline)
            counts = measurement_counts(stack)
            result.first_counts = result.first_counts or counts
            train_round(stack, worker, result)
            if i == rounds - 1:
                break  # the last version is scored on exactly what it was trained with
            # The active version answers: the shipped one until a trained one beats it.
            result.doubt_jobs += measure_doubtful(client, sorted(counts), cfg, rng)
            plan(stack.state, planner, rng)
        result.doubt_measured = measured_doubts(client, result.doubt_jobs)
        held_out_comparison(stack, result)
        result.measurements = measurement_counts(stack)
        print_result(console, result)
    finally:
        client.close()
        stack.stop()
    return result
