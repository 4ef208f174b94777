from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from perfloop.client import Client, ServiceError


def test_importing_the_client_does_not_import_torch() -> None:
    code = "import sys, perfloop.client; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _estimate(mean: float) -> dict[str, float]:
    return {"mean": mean, "std": 0.1, "lo": mean / 2, "hi": mean * 2}


def test_predict_specs_measure_and_wait() -> None:
    seen: list[tuple[str, str, object]] = []
    polls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer tok"
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        if request.url.path == "/api/v1/predictions":
            preds = [
                {"spec": s, "metrics": {"latency_ms": _estimate(1.0)}, "job_id": 7}
                for s in body["specs"]
            ]
            out = {"predictor_version": "v", "device": "d", "low_confidence": True}
            return httpx.Response(200, json={**out, "predictions": preds})
        if request.url.path == "/api/v1/jobs/7":
            polls["n"] += 1
            status = "done" if polls["n"] >= 2 else "leased"
            measurement = {"latency_median_ms": 1.5} if status == "done" else None
            job = {"id": 7, "device": "d", "model_id": "m", "status": status}
            return httpx.Response(200, json={**job, "measurement": measurement})
        return httpx.Response(404, json={"detail": "nope"})

    with Client("http://svc", "tok", transport=httpx.MockTransport(handler)) as client:
        out = client.predict_specs(
            "d", [("fbnet", "0" * 22)], on_uncertain="measure", threshold=0.3
        )
        assert out.predictions[0].job_id == 7 and out.predictions[0].metrics["latency_ms"].mean == 1
        jobs = client.wait([7], poll_s=0)
        assert jobs[0].measurement == {"latency_median_ms": 1.5}
        with pytest.raises(ServiceError, match="404"):
            client.measure("d", ["m"])
    body = seen[0][2]
    assert isinstance(body, dict)
    assert body["on_uncertain"] == "measure" and body["uncertainty_threshold"] == 0.3
    assert body["specs"] == [{"space": "fbnet", "arch": "0" * 22}]


def _flaky(answers: list[httpx.Response | Exception]) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), calls


GENERATION = {
    "predictor_version": "v",
    "device": "d",
    "low_confidence": False,
    "prompt_tokens": 128,
    "new_tokens": 64,
    "time_to_first_token_ms": {"mean": 10.0, "lo": 8.0, "hi": 12.0},
    "total_ms": {"mean": 100.0, "lo": 80.0, "hi": 120.0},
    "decode_contexts": [128, 191],
    "decode_step_ms": [{"mean": 1.0, "lo": 0.8, "hi": 1.2}] * 2,
}


def test_429_503_and_connection_errors_are_retried() -> None:
    transport, calls = _flaky(
        [
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.ConnectError("refused"),
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(200, json=GENERATION),
        ]
    )
    client = Client("http://x", "tok", transport=transport, initial_wait_s=0.0)
    out = client.generation("d", {"dim": 64}, 128, 64)
    assert out.total_ms.mean == 100.0 and len(calls) == 4


def test_retries_end_in_a_service_error() -> None:
    transport, calls = _flaky([httpx.Response(503)] * 3)
    client = Client("http://x", "tok", transport=transport, max_attempts=3, initial_wait_s=0.0)
    with pytest.raises(ServiceError, match="HTTP 503"):
        client.job(1)
    assert len(calls) == 3


def test_4xx_is_not_retried() -> None:
    transport, calls = _flaky([httpx.Response(422, json={"error": {"code": "invalid_spec"}})])
    client = Client("http://x", "tok", transport=transport)
    with pytest.raises(ServiceError, match="422"):
        client.job(1)
    assert len(calls) == 1
