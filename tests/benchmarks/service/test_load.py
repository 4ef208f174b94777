"""``perfloop bench load`` for a few seconds with a few clients: no errors, every route, JSON."""

from __future__ import annotations

import json

import pytest

from benchmarks.service.api import default_table
from benchmarks.service.load import LoadConfig, run_load
from benchmarks.service.load_traffic import WEIGHTS

ROUTES = {
    "POST /predictions (1 model)",
    "POST /predictions (20 models)",
    "POST /models (ONNX)",
    "POST /jobs",
    "POST /jobs/lease",
    "GET /models/{id}/onnx",
    "POST /jobs/{id}/heartbeat",
    "POST /jobs/{id}/complete",
    "POST /measurements",
}


@pytest.mark.slow
def test_short_load_run_has_no_errors_and_reports_every_route(db_url: str) -> None:
    try:
        table = default_table()
    except FileNotFoundError:
        pytest.skip("shared NAS-Bench-201 latency table not found")
    cfg = LoadConfig(
        data=table,
        database_url=db_url,
        clients=3,
        seconds=3.0,
        models=40,
        train_archs=25,
        onnx_files=2,
        batch_size=20,
        agent_devices=2,
    )
    result = json.loads(json.dumps(run_load(cfg)))  # what --json writes
    assert result["errors"] == {"total": 0, "by_status": {}, "by_route": {}}
    assert set(result["routes"]) == ROUTES and len(WEIGHTS) == 5
    for figures in result["routes"].values():
        assert figures["requests"] >= 1  # each client starts with one of each operation
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert result["requests"] == sum(r["requests"] for r in result["routes"].values())
    assert result["predictions_per_s"] > 0 and result["requests_per_s"] > 0
    assert result["backend"] == ("postgresql" if db_url.startswith("postgresql") else "sqlite")
    database = result["database"]
    assert database["jobs_done"] == result["routes"]["POST /jobs/{id}/complete"]["requests"]
    assert (
        database["measurements"]
        == 25 + database["jobs_done"] + (result["routes"]["POST /measurements"]["requests"])
    )
    assert (
        database["prediction_log_rows"]
        >= result["routes"]["POST /predictions (1 model)"]["requests"]
    )
    assert set(result["cpu_s"]) == {"servers", "postgres_all_processes", "load_clients"}
    assert len(result["loadavg"]["before"]) == 3
