"""SampleStore: a device's samples are cached for ``ttl_seconds``; measurements stored through
another replica show after it, those stored through this process at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.caches import GraphStore, SampleStore
from service.core.config import Settings
from service.core.db import Database
from service.crud import measurements as measurement_crud
from service.main import create_app
from service.schemas import MeasurementIn
from service.state import AppState
from tests.service.factories import make_device, make_model, measurement_body


def _store_measurement(db: Database) -> None:
    """A measurement for dev1 written straight to the database (as another replica would)."""
    with db.session(write=True) as session:
        model = make_model(session)
        measurement_crud.create(session, MeasurementIn(**measurement_body(model.id, "dev1")))


def _setup(db: Database) -> None:
    with db.session(write=True) as session:
        make_device(session, "dev1")
    _store_measurement(db)


def test_without_ttl_every_call_sees_new_measurements(db: Database) -> None:
    _setup(db)
    store = SampleStore(GraphStore(100), ttl_seconds=0)
    assert len(store.context(db, "dev1").samples) == 1
    _store_measurement(db)
    assert len(store.context(db, "dev1").samples) == 2


def test_within_ttl_the_cached_samples_serve_until_invalidated(db: Database) -> None:
    _setup(db)
    store = SampleStore(GraphStore(100), ttl_seconds=3600)
    first = store.context(db, "dev1")
    assert (first.kind, len(first.samples)) == ("cpu", 1)
    _store_measurement(db)
    assert len(store.context(db, "dev1").samples) == 1  # not re-checked within the TTL
    store.invalidate("dev1")
    assert len(store.context(db, "dev1").samples) == 2


def test_a_measurement_uploaded_here_is_used_at_once(
    settings: Settings, db: Database, agent: dict[str, str]
) -> None:
    _setup(db)
    cached = settings.model_copy(update={"device_cache_seconds": 3600})
    with TestClient(create_app(cached)) as client:
        state: AppState = client.app.state.perfloop  # type: ignore[attr-defined]
        assert len(state.samples.context(state.db, "dev1").samples) == 1
        with db.session(write=True) as session:
            model_id = make_model(session).id
        r = client.post(
            "/api/v1/measurements", json=measurement_body(model_id, "dev1"), headers=agent
        )
        assert r.status_code == 201, r.text
        assert len(state.samples.context(state.db, "dev1").samples) == 2


def test_a_job_completed_here_is_used_at_once(
    settings: Settings,
    db: Database,
    agent: dict[str, str],
    client_auth: dict[str, str],
) -> None:
    _setup(db)
    cached = settings.model_copy(update={"device_cache_seconds": 3600})
    with TestClient(create_app(cached)) as client:
        state: AppState = client.app.state.perfloop  # type: ignore[attr-defined]
        assert len(state.samples.context(state.db, "dev1").samples) == 1
        with db.session(write=True) as session:
            model_id = make_model(session).id
        enqueue = {"device": "dev1", "model_ids": [model_id]}
        assert client.post("/api/v1/jobs", json=enqueue, headers=client_auth).status_code == 201
        lease = client.post("/api/v1/jobs/lease", json={"device": "dev1"}, headers=agent)
        (job,) = lease.json()["jobs"]
        body = measurement_body(model_id, "dev1")
        r = client.post(f"/api/v1/jobs/{job['id']}/complete", json=body, headers=agent)
        assert r.status_code == 200, r.text
        assert len(state.samples.context(state.db, "dev1").samples) == 2


def test_compose_api_workers_get_the_same_thread_defaults_as_perfloop_serve() -> None:
    from pathlib import Path

    from service.caches import WORKER_ENV_DEFAULTS

    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text()
    api = compose[compose.index("\n  api:") : compose.index("\n  worker:")]
    for name, value in WORKER_ENV_DEFAULTS.items():
        assert f'{name}: "{value}"' in api
