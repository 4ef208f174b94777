"""schemathesis against the app's own OpenAPI schema, in process (ASGI), on SQLite.

Every operation is fuzzed with valid and invalid data: with an admin token (all routes), a
client token (client routes) and an agent token bound to ``dev1`` (agent routes). Checks: never
a 5xx, and every answer conforms to the schema (declared status codes, content types and
response bodies). The database holds devices dev1/dev2, a model, leased job 1 and an active
(test) predictor; the client and agent runs name them (see ``_reference_seeded_rows``) so their
requests reach past the 404s into leasing, completion, measurements and predictions.

A 500 found here is a bug to fix in the route, schema or crud; an undocumented status code or
body is a bug in the OpenAPI schema (``service/api/responses.py`` declares the error answers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.caches import PredictorLoader
from service.core.config import Settings
from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.main import create_app
from tests.service.factories import make_device, make_job, make_model, tiny_onnx
from tests.service.predictors import load_linear, write_artifact
from tests.service.security.test_scopes import POLICY

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


SEEDED_MODEL = hashlib.sha256(tiny_onnx()).hexdigest()
SEEDED: dict[str, object] = {
    "device": "dev1",
    "name": "dev1",
    "model_id": SEEDED_MODEL,
    "job_id": 1,
    "version": "v1",
}


def _names(scope: str) -> list[str]:
    """Operations (``"METHOD /path"``) a token of ``scope`` may call, by the scope policy."""
    return [f"{method} {path}" for (method, path), allowed in POLICY.items() if scope in allowed]


@pytest.fixture
def backend() -> str:
    """SQLite only: the fuzzing is about the API layer, not the storage backend."""
    return "sqlite"


@pytest.fixture
def predictor_loader() -> PredictorLoader:
    return load_linear


@pytest.fixture
def trainer() -> Callable[..., Any]:
    """Training requests fail at once (no real training in a fuzz run)."""

    def refuse(*_args: Any) -> Any:
        raise RuntimeError("training disabled in the schemathesis run")

    return refuse


@pytest.fixture
def world(db: Database, tmp_path: Path) -> None:
    """Devices dev1/dev2, model SEEDED_MODEL, leased job 1 on dev1, active test predictor v1."""
    artifact = write_artifact(tmp_path / "v1", "v1")
    with db.session(write=True) as session:
        make_device(session, "dev1")
        make_device(session, "dev2")
        make_model(session, id=SEEDED_MODEL)
        make_job(session, SEEDED_MODEL, "dev1", status="leased")
        predictor_crud.register(session, "v1", str(artifact), {})
        predictor_crud.activate(session, "v1")


@pytest.fixture
def app(client: TestClient, world: None) -> Iterator[FastAPI]:
    """The app under test (started, its database seeded); training threads joined after."""
    assert isinstance(client.app, FastAPI)
    client.app.state.perfloop.blobs.put(tiny_onnx())  # the bytes of the seeded model
    yield client.app
    for thread in client.app.state.perfloop.training_threads:
        thread.join(timeout=30)


def _openapi() -> dict[str, Any]:
    """The OpenAPI document of the app (the same for every database: nothing is connected)."""
    settings = Settings(data_dir=Path("unused"), database_url="sqlite://")
    return create_app(settings, predictor_loader=load_linear).openapi()


# Loaded at collection (one test per operation); ``schemathesis.pytest.from_fixture`` would
# build it per test from the app fixture, but it does not work with pytest 9 (a private
# attribute it sets on the test node is gone).
schema = schemathesis.openapi.from_dict(_openapi())
# The client and agent runs skip the coverage phase (hundreds of deterministic boundary cases per
# operation, already sent once with the admin token) and name the seeded rows wherever a
# well-typed device, model, job or version is generated: they go deep (lease, complete,
# measurements, predictions on the active predictor) rather than wide.
NO_COVERAGE = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
scoped_schema = schemathesis.openapi.from_dict(_openapi(), config=NO_COVERAGE)


def _seed(values: object) -> None:
    """Replace well-typed references in a body, path or query by the seeded rows (in place)."""
    if not isinstance(values, dict):
        return
    for key, seed in SEEDED.items():
        if key in values and type(values[key]) is type(seed):
            values[key] = seed
    if isinstance(values.get("model_ids"), list):
        values["model_ids"] = [
            SEEDED_MODEL if isinstance(i, str) else i for i in values["model_ids"]
        ]


@scoped_schema.hook("map_case")
def _reference_seeded_rows(
    _context: schemathesis.HookContext, case: schemathesis.Case
) -> schemathesis.Case:
    for part in (case.body, case.path_parameters, case.query):
        _seed(part)
    return case


@schema.parametrize()
@FUZZ
def test_admin_token_on_every_route(
    case: schemathesis.Case, app: FastAPI, admin: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=admin, checks=CHECKS)


@scoped_schema.include(name=_names("client")).parametrize()
@FUZZ
def test_client_token_on_client_routes(
    case: schemathesis.Case, app: FastAPI, client_auth: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=client_auth, checks=CHECKS)


@scoped_schema.include(name=_names("agent")).parametrize()
@FUZZ
def test_agent_token_on_agent_routes(
    case: schemathesis.Case, app: FastAPI, agent: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=agent, checks=CHECKS)
