"""``perfloop worker`` killed (SIGKILL) in the middle of a training round: the API keeps serving
the active version, the request is not left ``running`` forever (the next trainer, holding the
trainer lock, requeues it) and the next worker run trains it and finishes cleanly."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from service.crud import predictors as predictor_crud
from service.models import PredictorVersion, TrainRequest
from service.worker import INTERRUPTED
from tests.reliability.agents import wait_for
from tests.reliability.stack import ROOT, Stack
from tests.service.factories import make_device, make_measurement, make_model
from tests.service.predictors import write_artifact

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(480)]

WORKER = [sys.executable, "-m", "perfloop", "worker", "--once", "--no-plan"]
SAMPLES = 24


def seed(stack: Stack) -> tuple[str, int]:
    """A device with measurements, an active (linear) version and a queued training request.

    Returns:
        A model id to predict and the training request id.
    """
    with stack.db.session(write=True) as session:
        make_device(session, "dev1")
        model_ids = [make_model(session).id for _ in range(SAMPLES)]
        for i, model_id in enumerate(model_ids):
            make_measurement(session, model_id, latency_ms=1.0 + (i % 17) / 4)
        artifact = write_artifact(stack.data_dir / "v-active", "v-active")
        predictor_crud.register(session, "v-active", str(artifact), {})
        predictor_crud.activate(session, "v-active")
        request = predictor_crud.create_train_request(session, {"quick": True})
        return model_ids[0], request.id


def served_version(url: str, headers: dict[str, str], model_id: str) -> str:
    body = {"device": "dev1", "model_ids": [model_id], "metrics": ["latency_ms"]}
    response = httpx.post(f"{url}/api/v1/predictions", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["predictor_version"])


def request_state(stack: Stack, request_id: int) -> tuple[str, str | None, int]:
    """(status, error) of the request and the number of predictor versions."""
    with stack.db.session() as session:
        row = session.get(TrainRequest, request_id)
        assert row is not None
        versions = session.scalar(select(func.count()).select_from(PredictorVersion))
        return row.status, row.error, int(versions or 0)


def test_killed_trainer_leaves_the_active_version_and_the_next_run_trains(stack: Stack) -> None:
    url = stack.start_replica()
    model_id, request_id = seed(stack)
    headers = {"Authorization": f"Bearer {stack.token('client')}"}
    assert served_version(url, headers, model_id) == "v-active"
    worker = stack.spawn(WORKER, "worker1.log")
    wait_for(lambda: request_state(stack, request_id)[0] == "running", 180, "the round to start")
    time.sleep(1.0)  # training now
    worker.kill()
    worker.wait(timeout=30)
    assert request_state(stack, request_id) == ("running", None, 1)  # killed mid-round
    assert served_version(url, headers, model_id) == "v-active"

    log = (stack.data_dir / "worker2.log").open("wb")
    done = subprocess.run(WORKER, env=stack.env, cwd=ROOT, stdout=log, stderr=log, timeout=400)
    log.close()
    assert done.returncode == 0, (stack.data_dir / "worker2.log").read_text()[-3000:]
    status, error, versions = request_state(stack, request_id)
    assert (status, error, versions) == ("done", None, 2)
    assert INTERRUPTED in (stack.data_dir / "worker2.log").read_text()  # recovered, then trained
