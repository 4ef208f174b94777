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
