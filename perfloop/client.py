"""A small client of the perfloop service for search jobs (httpx + pydantic; never imports torch).

Connection errors, 429 and 5xx answers are retried with back-off, honouring ``Retry-After``
(the agents' policy: :mod:`device_agents.http_retry`).

>>> client = Client("http://127.0.0.1:8000", token)
>>> out = client.predict_specs("ort-cpu-host", [("fbnet", spec)], on_uncertain="measure")
>>> done = client.wait([p.job_id for p in out.predictions if p.job_id])
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from device_agents.http_retry import RetriesExhaustedError, retrying, send

Metric = Literal["latency_ms", "energy_mj", "peak_memory_bytes"]


class Estimate(BaseModel):
    """Mean, standard deviation and 90 % interval of one metric."""

    mean: float
    std: float
    lo: float
    hi: float


class Prediction(BaseModel):
    """One model's (or spec's) predictions, and the measurement job queued when unsure."""

    model_id: str | None = None
    spec: dict[str, Any] | None = None
    metrics: dict[str, Estimate]
    job_id: int | None = None


class Predictions(BaseModel):
    """Answer to a batch prediction."""

    predictor_version: str
    device: str
    low_confidence: bool
    predictions: list[Prediction]


class TimeEstimate(BaseModel):
    """Mean and 90 % interval of a time in milliseconds."""

    mean: float
    lo: float
    hi: float


class Generation(BaseModel):
    """Time to first token and total generation time of an ``llm`` architecture."""

    predictor_version: str
    device: str
    low_confidence: bool
    prompt_tokens: int
    new_tokens: int
    time_to_first_token_ms: TimeEstimate
    total_ms: TimeEstimate
    decode_contexts: list[int]
    decode_step_ms: list[TimeEstimate]


class Job(BaseModel):
    """A measurement job; ``measurement`` is filled once it is done."""

    id: int
    device: str
    model_id: str
    status: str
    reason: str | None = None
    measurement: dict[str, Any] | None = None


class ServiceError(RuntimeError):
    """The service answered with an error (status code and its message), or could not be
    reached (or kept answering 429/5xx) after every retry."""


class Client:
    """Client of ``/api/v1`` with a bearer token (client scope).

    Args:
        url: base URL of the service (``/api/v1`` is appended).
        token: bearer token.
        timeout_s: timeout per request.
        transport: optional httpx transport (tests).
        max_attempts: attempts per request on connection errors, 429 and 5xx.
        initial_wait_s: first back-off delay (doubles per attempt) without ``Retry-After``.
        max_wait_s: longest back-off delay.
    """

    def __init__(
        self,
        url: str,
        token: str,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 6,
        initial_wait_s: float = 0.5,
        max_wait_s: float = 30.0,
    ) -> None:
        self._retrying = retrying(max_attempts, initial_wait_s, max_wait_s)
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = send(self._http, self._retrying, method, path, **kwargs)
        except RetriesExhaustedError as exc:
            raise ServiceError(str(exc)) from exc
        if response.status_code >= 400:
            raise ServiceError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def error_report(self, device: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``GET /error-report`` (logged predictions against later measurements)."""
        params = {"device": device} if device is not None else {}
        rows: list[dict[str, Any]] = self._call("GET", "/error-report", params=params)["rows"]
        return rows

    def upload_model(self, model: Path | bytes) -> str:
        """Upload an ONNX model (path or bytes); returns its id (sha256)."""
        data = model.read_bytes() if isinstance(model, Path) else model
        headers = {"Content-Type": "application/octet-stream"}
        return str(self._call("POST", "/models", content=data, headers=headers)["id"])

    def predict(
        self,
        device: str,
        model_ids: Sequence[str],
        metrics: Sequence[Metric] = ("latency_ms",),
        on_uncertain: Literal["ignore", "measure"] = "ignore",
        threshold: float = 1.2,
    ) -> Predictions:
        """Predict uploaded models on ``device``; with ``on_uncertain="measure"`` models whose
        relative interval width exceeds ``threshold`` get a measurement job (``job_id``)."""
        body = {
            "device": device,
            "model_ids": list(model_ids),
            "metrics": list(metrics),
            "on_uncertain": on_uncertain,
            "uncertainty_threshold": threshold,
        }
        return Predictions.model_validate(self._call("POST", "/predictions", json=body))

    def predict_specs(
        self,
        device: str,
        specs: Sequence[tuple[str, Any]],
        metrics: Sequence[Metric] = ("latency_ms",),
        on_uncertain: Literal["ignore", "measure"] = "ignore",
        threshold: float = 1.2,
    ) -> Predictions:
        """Predict search-space specs ``(space, arch)`` on ``device`` (no ONNX export needed)."""
        body = {
            "device": device,
            "specs": [{"space": s, "arch": a} for s, a in specs],
            "metrics": list(metrics),
            "on_uncertain": on_uncertain,
            "uncertainty_threshold": threshold,
        }
        return Predictions.model_validate(self._call("POST", "/predictions", json=body))

    def generation(
        self, device: str, arch: dict[str, Any], prompt_tokens: int, new_tokens: int
    ) -> Generation:
        """Time to first token (the prefill of ``prompt_tokens``) and total time of generating
        ``new_tokens`` (decode steps over the growing KV cache) for an ``llm`` architecture."""
        body = {
            "device": device,
            "arch": arch,
            "prompt_tokens": prompt_tokens,
            "new_tokens": new_tokens,
        }
        return Generation.model_validate(self._call("POST", "/predictions/generation", json=body))

    def measure(self, device: str, model_ids: Sequence[str], priority: int = 0) -> list[int]:
        """Queue measurement jobs; returns their ids (an open job for the same model is reused)."""
        body = {"device": device, "model_ids": list(model_ids), "priority": priority}
        return [int(j["id"]) for j in self._call("POST", "/jobs", json=body)["jobs"]]

    def job(self, job_id: int) -> Job:
        """A job, with its measurement once done."""
        return Job.model_validate(self._call("GET", f"/jobs/{job_id}"))

    def wait(
        self, job_ids: Sequence[int], timeout_s: float = 600.0, poll_s: float = 1.0
    ) -> list[Job]:
        """Poll until every job is done or failed; returns them in order.

        Raises:
            TimeoutError: some job is still open after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        finished: dict[int, Job] = {}
        while True:
            for job_id in job_ids:
                if job_id not in finished:
                    job = self.job(job_id)
                    if job.status in ("done", "failed"):
                        finished[job_id] = job
            if len(finished) == len(set(job_ids)):
                return [finished[j] for j in job_ids]
            if time.monotonic() > deadline:
                open_ids = sorted(set(job_ids) - set(finished))
                raise TimeoutError(f"jobs {open_ids} still open after {timeout_s} s")
            time.sleep(poll_s)
