"""Two API replicas (separate processes) over one PostgreSQL database."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.crud import predictors as predictor_crud
from service.models import Job, Measurement
from tests.reliability.stack import Stack
from tests.service.factories import make_device, make_model, measurement_body
from tests.service.predictors import write_artifact

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

JOBS = 240
AGENTS = 6


def _enqueue(stack: Stack, url: str, n: int) -> list[str]:
    with stack.db.session(write=True) as session:
        make_device(session, "dev1")
        model_ids = [make_model(session).id for _ in range(n)]
    headers = {"Authorization": f"Bearer {stack.token('client')}"}
    response = httpx.post(
        f"{url}/api/v1/jobs", json={"device": "dev1", "model_ids": model_ids}, headers=headers
    )
    assert response.status_code == 201, response.text
    return model_ids


def _agent_loop(urls: list[str], token: str, index: int, leased: list[int]) -> None:
    """Lease from one replica, complete on the other, until the queue is empty."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=60, headers=headers) as http:
        turn = index
        while True:
            lease_url, done_url = urls[turn % 2], urls[(turn + 1) % 2]
            turn += 1
            body = {"device": "dev1", "max_jobs": 3, "lease_seconds": 600}
            response = http.post(f"{lease_url}/api/v1/jobs/lease", json=body)
            response.raise_for_status()
            jobs: list[dict[str, Any]] = response.json()["jobs"]
            if not jobs:
                return
            for job in jobs:
                leased.append(job["id"])
                done = http.post(
                    f"{done_url}/api/v1/jobs/{job['id']}/complete",
                    json=measurement_body(job["model_id"], "dev1", key=f"job-{job['id']}"),
                )
                assert done.status_code in (200, 201), done.text


def test_agents_leasing_from_two_replicas_never_share_a_job(stack: Stack) -> None:
    urls = [stack.start_replica(), stack.start_replica()]
    _enqueue(stack, urls[0], JOBS)
    leased: list[int] = []  # list.append is atomic under the GIL
    tokens = [stack.token("agent", "dev1") for _ in range(AGENTS)]
    threads = [
        threading.Thread(target=_agent_loop, args=(urls, tokens[i], i, leased))
        for i in range(AGENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    twice = [job for job, n in Counter(leased).items() if n > 1]
    assert twice == [] and len(leased) == JOBS
    with stack.db.session() as session:
        statuses = Counter(session.scalars(select(Job.status)))
        measured = session.scalar(select(func.count()).select_from(Measurement))
    assert statuses == {"done": JOBS} and measured == JOBS


def _predict(url: str, headers: dict[str, str], model_id: str) -> str:
    body = {"device": "dev1", "model_ids": [model_id], "metrics": ["latency_ms"]}
    response = httpx.post(f"{url}/api/v1/predictions", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["predictor_version"])


def test_replicas_serve_a_newly_activated_version_without_restart(stack: Stack) -> None:
    urls = [stack.start_replica(), stack.start_replica()]
    with stack.db.session(write=True) as session:
        make_device(session, "dev1")
        model_id = make_model(session).id
        for version in ("v1", "v2"):
            artifact = write_artifact(stack.data_dir / version, version)
            predictor_crud.register(session, version, str(artifact), {})
        predictor_crud.activate(session, "v1")
    headers = {"Authorization": f"Bearer {stack.token('client')}"}
    assert [_predict(url, headers, model_id) for url in urls] == ["v1", "v1"]
    admin = {"Authorization": f"Bearer {stack.token('admin')}"}
    response = httpx.post(f"{urls[0]}/api/v1/predictors/v2/activate", headers=admin, timeout=60)
    assert response.status_code == 200, response.text
    # predictor_refresh_seconds is 0: each replica re-reads the active row on its next request
    assert [_predict(url, headers, model_id) for url in urls] == ["v2", "v2"]
