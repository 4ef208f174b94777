"""A device agent killed with SIGKILL in the middle of a job: the lease expires, another agent
completes the job, and exactly one measurement is stored."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from service.models import Job, Measurement
from tests.reliability.agents import agent_command, agent_env, wait_for
from tests.reliability.stack import Stack
from tests.service.factories import tiny_onnx

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

DEVICE = "ort-cpu-rel"


def job_status(stack: Stack, job_id: int) -> str:
    with stack.db.session() as session:
        return str(session.scalar(select(Job.status).where(Job.id == job_id)))


def test_killed_agent_job_is_completed_once_by_another(stack: Stack, tmp_path: Path) -> None:
    stack.env["PERFLOOP_JOB_LEASE_SECONDS"] = "10"
    url = stack.start_replica()
    client = {"Authorization": f"Bearer {stack.token('client')}"}
    token = stack.token("agent", DEVICE)
    upload = httpx.post(
        f"{url}/api/v1/models", files={"file": ("m.onnx", tiny_onnx())}, headers=client
    )
    assert upload.status_code in (200, 201), upload.text
    model_id = upload.json()["id"]
    first = stack.spawn(
        agent_command(tmp_path / "spool1", DEVICE), "agent1.log", **agent_env(url, token, 10, 120)
    )
    wait_for(lambda: _device_registered(stack), 120, "the first agent to register its device")
    response = httpx.post(
        f"{url}/api/v1/jobs", json={"device": DEVICE, "model_ids": [model_id]}, headers=client
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["jobs"][0]["id"]
    wait_for(lambda: job_status(stack, job_id) == "leased", 60, "the job to be leased")
    time.sleep(1.0)  # measuring now (the protocol runs for 120 s)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert job_status(stack, job_id) == "leased"
    stack.spawn(
        agent_command(tmp_path / "spool2", DEVICE), "agent2.log", **agent_env(url, token, 10)
    )
    wait_for(lambda: job_status(stack, job_id) == "done", 120, "the second agent to finish")
    with stack.db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.attempts == 2
        count = session.scalar(
            select(func.count()).select_from(Measurement).where(Measurement.model_id == model_id)
        )
    assert count == 1


def _device_registered(stack: Stack) -> bool:
    from service.models import Device

    with stack.db.session() as session:
        return session.get(Device, DEVICE) is not None
