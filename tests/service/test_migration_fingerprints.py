"""Migration 0002 backfills network fingerprints on existing rows."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from predictor.ir.fingerprint import graph_fingerprint
from predictor.spaces.registry import get_space
from service.core.db import make_engine
from service.migrate import upgrade
from tests.service.factories import tiny_graph

NB201 = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
    "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)


@pytest.fixture
def empty_engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    fixture = "sqlite_databases" if backend == "sqlite" else "postgres_databases"
    with request.getfixturevalue(fixture).fresh(migrated=False) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _model(connection: object, model_id: str, ir_json: str) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO models (id, size_bytes, ir_json, ir_version, macs, flops, params, "
            "model_bytes, peak_activation_bytes, num_nodes, unknown_ops, created_at) "
            "VALUES (:id, 1, :ir, 1, 1, 1, 1, 1, 1, 1, '[]', CURRENT_TIMESTAMP)"
        ),
        {"id": model_id, "ir": ir_json},
    )


def _log(connection: object, model_id: str | None, spec: str | None) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO prediction_log (model_id, spec, device, predictor_version, metric, "
            "mean, std, lo, hi, created_at) "
            "VALUES (:m, :s, 'dev1', 'v1', 'latency_ms', 1, 0.1, 0.8, 1.2, CURRENT_TIMESTAMP)"
        ),
        {"m": model_id, "s": spec},
    )


def test_backfill_models_measurements_and_logged_predictions(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0001")
    graph = tiny_graph(4)
    spec = json.dumps({"arch": NB201, "space": "nasbench201"}, sort_keys=True)
    with empty_engine.begin() as connection:
        _model(connection, "a" * 64, graph.to_json())
        _model(connection, "b" * 64, '{"not": "an IR"}')
        connection.execute(
            text(
                "INSERT INTO devices (name, kind, runtime, simulated, hardware, created_at, "
                "updated_at) VALUES ('dev1', 'cpu', 'x', false, '{}', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO measurements (idempotency_key, model_id, device, measurement_kind, "
                "backend, runtime, runtime_version, agent_version, environment_extra, created_at)"
                " VALUES ('k', :m, 'dev1', 'measured', 'b', 'r', '1', 'a', '{}', "
                "CURRENT_TIMESTAMP)"
            ),
            {"m": "a" * 64},
        )
        _log(connection, "a" * 64, None)
        _log(connection, "b" * 64, None)
        _log(connection, None, spec)
        _log(connection, None, json.dumps({"arch": "x", "space": "no-such-space"}))
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        rows = connection.execute(text("SELECT id, fingerprint FROM models ORDER BY id"))
        models = {str(r[0]): r[1] for r in rows}
        measured = connection.execute(text("SELECT fingerprint FROM measurements")).scalar()
        query = text("SELECT fingerprint FROM prediction_log ORDER BY id")
        logged = list(connection.execute(query).scalars())
    assert models == {"a" * 64: graph_fingerprint(graph), "b" * 64: "b" * 64}
    assert measured == graph_fingerprint(graph)
    spec_fp = graph_fingerprint(get_space("nasbench201").to_ir(NB201))
    assert logged == [graph_fingerprint(graph), "b" * 64, spec_fp, None]
