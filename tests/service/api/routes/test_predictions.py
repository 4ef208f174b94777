"""Prediction serving through a real (test) predictor: 409 before one is active, batches by
model id and by spec, logging, uncertainty -> jobs, sample refresh, version switch."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.caches import PredictorLoader
from service.core.db import Database
from service.crud import predictors as predictor_crud
from service.models import PredictionLog
from service.schemas import PredictionsOut
from tests.service.factories import make_device, make_model, measurement_body
from tests.service.predictors import load_linear, write_artifact

NB201_ARCH = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
    "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)


@pytest.fixture
def predictor_loader() -> PredictorLoader:
    return load_linear


@pytest.fixture
def setup(db: Database) -> list[tuple[str, int]]:
    """dev1 and three models; returns (id, macs)."""
    with db.session(write=True) as session:
        make_device(session, "dev1")
        models = [make_model(session, channels=c) for c in (4, 8, 16)]
        return [(m.id, m.macs) for m in models]


def _register(db: Database, tmp_path: Path, version: str, scale: float = 0.01) -> None:
    artifact = write_artifact(tmp_path / version, version, scale)
    with db.session(write=True) as session:
        predictor_crud.register(session, version, str(artifact), {"note": "test"})


def _predict(client: TestClient, auth: dict[str, str], **body: object) -> httpx.Response:
    return client.post("/api/v1/predictions", json={"device": "dev1", **body}, headers=auth)


def test_409_until_a_predictor_is_active(
    client: TestClient, client_auth: dict[str, str], setup: list[tuple[str, int]]
) -> None:
    r = _predict(client, client_auth, model_ids=[setup[0][0]])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "no_active_predictor"
    assert (
        "POST /api/v1/predictors/train" in error["message"] and "perfloop train" in error["message"]
    )


def test_predict_by_model_id_and_log(
    client: TestClient,
    db: Database,
    tmp_path: Path,
    admin: dict[str, str],
    client_auth: dict[str, str],
    setup: list[tuple[str, int]],
) -> None:
    _register(db, tmp_path, "v1", 0.01)
    r = client.post("/api/v1/predictors/v1/activate", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "active"
    ids = [mid for mid, _ in setup]
    r = _predict(client, client_auth, model_ids=ids, metrics=["latency_ms", "peak_memory_bytes"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictor_version"] == "v1" and body["device"] == "dev1"
    assert body["low_confidence"] is True  # no samples on dev1: 50% std, width 1.64 > 0.5
    for pred, (mid, macs) in zip(body["predictions"], setup, strict=True):
        assert pred["model_id"] == mid and pred["job_id"] is None
        latency = pred["metrics"]["latency_ms"]
        assert latency["mean"] == pytest.approx(0.01 * macs / 1e6)
        assert latency["lo"] < latency["mean"] < latency["hi"]
        assert set(pred["metrics"]) == {"latency_ms", "peak_memory_bytes"}
    with db.session() as session:
        assert session.scalar(select(func.count(PredictionLog.id))) == 6
        logged = session.scalars(select(PredictionLog).order_by(PredictionLog.id)).first()
        assert logged is not None and logged.predictor_version == "v1"


@pytest.fixture
def active(db: Database, tmp_path: Path, setup: list[tuple[str, int]]) -> list[tuple[str, int]]:
    _register(db, tmp_path, "v1", 0.01)
    with db.session(write=True) as session:
        predictor_crud.activate(session, "v1")
    return setup


def test_samples_reach_the_predictor_and_refresh(
    client: TestClient,
    client_auth: dict[str, str],
    agent: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    mid, macs = active[1]
    before = _predict(client, client_auth, model_ids=[mid]).json()
    assert before["low_confidence"] is True
    upload = measurement_body(mid, latency_ms=5.0)
    assert client.post("/api/v1/measurements", json=upload, headers=agent).status_code == 201
    after = _predict(client, client_auth, model_ids=[active[0][0], mid]).json()
    assert after["low_confidence"] is False  # calibrated on the sample: 5% std
    assert after["predictions"][1]["metrics"]["latency_ms"]["mean"] == pytest.approx(5.0)
    expected = 5.0 / macs * active[0][1]
    assert after["predictions"][0]["metrics"]["latency_ms"]["mean"] == pytest.approx(expected)


def test_uncertain_predictions_queue_jobs(
    client: TestClient, client_auth: dict[str, str], active: list[tuple[str, int]]
) -> None:
    ids = [mid for mid, _ in active]
    r = _predict(client, client_auth, model_ids=ids, on_uncertain="measure")
    job_ids = [p["job_id"] for p in r.json()["predictions"]]
    assert all(isinstance(j, int) for j in job_ids) and len(set(job_ids)) == 3
    again = _predict(client, client_auth, model_ids=ids, on_uncertain="measure").json()
    assert [p["job_id"] for p in again["predictions"]] == job_ids  # deduplicated
    relaxed = _predict(
        client, client_auth, model_ids=ids, on_uncertain="measure", uncertainty_threshold=5.0
    ).json()
    assert all(p["job_id"] is None for p in relaxed["predictions"])
    jobs = client.get("/api/v1/jobs?device=dev1&status=queued", headers=client_auth).json()
    assert sorted(j["id"] for j in jobs["jobs"]) == sorted(job_ids)


def test_predict_by_spec(
    client: TestClient, client_auth: dict[str, str], active: list[tuple[str, int]]
) -> None:
    spec = {"space": "nasbench201", "arch": NB201_ARCH}
    r = _predict(client, client_auth, specs=[spec, spec])
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert preds[0]["spec"] == spec and preds[0]["model_id"] is None
    assert preds[0]["metrics"]["latency_ms"]["mean"] > 0
    assert preds[0]["metrics"] == preds[1]["metrics"]


def test_prediction_errors(
    client: TestClient,
    client_auth: dict[str, str],
    agent: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    ghost = "ef" * 32
    r = _predict(client, client_auth, model_ids=[active[0][0], ghost])
    assert r.status_code == 404 and ghost in r.json()["error"]["message"]
    r = client.post(
        "/api/v1/predictions", json={"device": "nodev", "model_ids": [ghost]}, headers=client_auth
    )
    assert r.status_code == 404 and "nodev" in r.json()["error"]["message"]
    r = _predict(client, client_auth, specs=[{"space": "nope", "arch": "x"}])
    assert r.status_code == 422
    assert "nasbench201" in r.json()["error"]["message"]  # names the valid spaces
    r = _predict(client, client_auth, specs=[{"space": "nasbench201", "arch": "garbage"}])
    assert r.status_code == 422 and r.json()["error"]["field"] == "specs.0.arch"
    r = _predict(client, client_auth, model_ids=[active[0][0]] * 1001)
    assert r.status_code == 422 and r.json()["error"]["field"] == "model_ids"
    r = _predict(client, client_auth, model_ids=[active[0][0]], metrics=["speed"])
    assert r.status_code == 422 and r.json()["error"]["field"] == "metrics.0"
    r = _predict(client, client_auth)
    assert r.status_code == 422
    r = _predict(client, client_auth, model_ids=[active[0][0]], uncertainty_threshold="high")
    assert r.status_code == 422 and r.json()["error"]["field"] == "uncertainty_threshold"
    r = _predict(client, agent, model_ids=[active[0][0]])
    assert r.status_code == 403


def test_activation_switches_version_without_restart(
    client: TestClient,
    db: Database,
    tmp_path: Path,
    admin: dict[str, str],
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    ids = [active[0][0]]
    assert _predict(client, client_auth, model_ids=ids).json()["predictor_version"] == "v1"
    _register(db, tmp_path, "v2", 0.02)
    with db.session(write=True) as session:  # as another replica would: straight in the DB
        predictor_crud.activate(session, "v2")
    body = _predict(client, client_auth, model_ids=ids).json()
    assert body["predictor_version"] == "v2"
    listed = {
        p["version"]: p["status"]
        for p in client.get("/api/v1/predictors", headers=client_auth).json()
    }
    assert listed == {"v1": "retired", "v2": "active"}
    r = client.post("/api/v1/predictors/v9/activate", headers=admin)
    assert r.status_code == 404 and "v9" in r.json()["error"]["message"]
    assert client.post("/api/v1/predictors/v1/activate", headers=client_auth).status_code == 403


def test_broken_artifact_is_503_not_500(
    client: TestClient,
    db: Database,
    tmp_path: Path,
    client_auth: dict[str, str],
    setup: list[tuple[str, int]],
) -> None:
    with db.session(write=True) as session:
        predictor_crud.register(session, "broken", str(tmp_path / "missing"), {})
        predictor_crud.activate(session, "broken")
    r = _predict(client, client_auth, model_ids=[setup[0][0]])
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "predictor_unavailable"
    assert "broken" in r.json()["error"]["message"]


def test_body_is_a_predictions_out_and_documented(
    client: TestClient,
    db: Database,
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    """The body is serialized by hand (service.predict_batch); it must still be a PredictionsOut."""
    ids = [mid for mid, _ in active]
    metrics = ["peak_memory_bytes", "latency_ms"]
    r = _predict(client, client_auth, model_ids=ids, metrics=metrics, on_uncertain="measure")
    assert r.headers["content-type"] == "application/json"
    out = PredictionsOut.model_validate_json(r.content)
    assert [p.model_id for p in out.predictions] == ids
    assert all(list(p.metrics) == metrics and p.job_id is not None for p in out.predictions)
    spec = {"space": "nasbench201", "arch": NB201_ARCH}
    by_spec = PredictionsOut.model_validate_json(
        _predict(client, client_auth, specs=[spec]).content
    )
    assert by_spec.predictions[0].spec is not None
    assert by_spec.predictions[0].spec.model_dump() == spec
    with db.session() as session:  # 2 metrics x 3 models, then 1 spec
        logged = session.scalars(select(PredictionLog).order_by(PredictionLog.id)).all()
    assert [(p.model_id, p.metric) for p in logged[:6]] == [
        (mid, m) for mid in ids for m in metrics
    ]
    assert logged[6].spec is not None and '"nasbench201"' in logged[6].spec
    assert logged[0].created_at.tzinfo is not None
    schema = client.get("/openapi.json").json()["paths"]["/api/v1/predictions"]["post"][
        "responses"
    ]["200"]
    assert schema["content"]["application/json"]["schema"]["$ref"].endswith("/PredictionsOut")


def test_graph_only_model_predicts(
    client: TestClient,
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    from tests.predictor.ir.models import decoder_graph_only

    data = decoder_graph_only(32000, 2048, 20, 5632).SerializeToString()
    headers = {**client_auth, "Content-Type": "application/octet-stream"}
    model = client.post("/api/v1/models", content=data, headers=headers).json()
    assert model["graph_only"] is True
    r = _predict(client, client_auth, model_ids=[model["id"]])
    assert r.status_code == 200, r.text
    macs = model["macs"]  # the test predictor is linear in MACs: exact features, exact answer
    latency = r.json()["predictions"][0]["metrics"]["latency_ms"]
    assert latency["mean"] == pytest.approx(0.01 * macs / 1e6)


LLM = {"vocab": 1024, "dim": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ffn_ratio": 2}


def test_generation_estimate_integrates_decode_over_the_growing_context(
    client: TestClient,
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    from predictor.spaces.llm import DecoderLMSpace

    body = {"device": "dev1", "arch": LLM, "prompt_tokens": 16, "new_tokens": 8}
    r = client.post("/api/v1/predictions/generation", json=body, headers=client_auth)
    assert r.status_code == 200, r.text
    out = r.json()
    space = DecoderLMSpace()
    prefill_macs = space.to_ir({**LLM, "seq_len": 16}).macs
    assert out["time_to_first_token_ms"]["mean"] == pytest.approx(0.01 * prefill_macs / 1e6)
    steps = [  # the test predictor is linear in MACs, and decode MACs are linear in the context
        0.01 * space.to_ir({**LLM, "seq_len": 1, "phase": "decode", "context": c}).macs / 1e6
        for c in range(16, 24)
    ]
    assert out["decode_contexts"][0] == 16 and out["decode_contexts"][-1] == 23
    total = out["total_ms"]
    assert total["mean"] == pytest.approx(out["time_to_first_token_ms"]["mean"] + sum(steps))
    assert total["lo"] < total["mean"] < total["hi"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arch": {**LLM, "heads": 3}}, "arch"),
        ({"prompt_tokens": 0}, "prompt_tokens"),
        ({"new_tokens": 0}, "new_tokens"),
    ],
)
def test_bad_generation_requests_are_named_422(
    client: TestClient,
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
    change: dict[str, object],
    field: str,
) -> None:
    body = {"device": "dev1", "arch": LLM, "prompt_tokens": 16, "new_tokens": 8, **change}
    r = client.post("/api/v1/predictions/generation", json=body, headers=client_auth)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field and r.json()["error"]["code"] == "invalid_spec"


def test_decode_spec_with_zero_context_is_a_named_422(
    client: TestClient,
    client_auth: dict[str, str],
    active: list[tuple[str, int]],
) -> None:
    arch = {**LLM, "seq_len": 1, "phase": "decode", "context": 0}
    r = _predict(client, client_auth, specs=[{"space": "llm", "arch": arch}])
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "specs.0.arch"
    assert "context=0" in r.json()["error"]["message"]
