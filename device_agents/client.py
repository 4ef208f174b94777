"""HTTP client of the ``/api/v1`` contract. Transient failures are retried (Retry-After)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from tenacity import stop_after_attempt

from device_agents.http_retry import RetriesExhaustedError, retrying, send
from device_agents.schemas import DeviceIn, Job, Measurement

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """The server answered with a 4xx error.

    Attributes:
        status: HTTP status.
        code: The error code of the body (``{"error": {"code", "message", "field"}}``).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


class LeaseLostError(ApiError):
    """409: the job's lease was lost (expired and re-leased, or the job is finished)."""


class ServerUnavailableError(Exception):
    """The server could not be reached (or kept answering 5xx) after all retries."""


class AgentClient:
    """Talks to the perfloop service.

    Args:
        server: Base URL of the service (``/api/v1`` is appended).
        token: Bearer token.
        timeout_s: Timeout per request.
        max_attempts: Attempts per request on transient failures.
        initial_wait_s: First back-off delay (doubles per attempt).
        max_wait_s: Longest back-off delay.
        transport: Optional httpx transport (tests).
    """

    def __init__(
        self,
        server: str,
        token: str,
        timeout_s: float = 30.0,
        max_attempts: int = 6,
        initial_wait_s: float = 0.5,
        max_wait_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            transport=transport,
        )
        self._retrying = retrying(max_attempts, initial_wait_s, max_wait_s)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(
        self, method: str, path: str, json: Any = None, retry: bool = True
    ) -> httpx.Response:
        retrying = (
            self._retrying.copy() if retry else self._retrying.copy(stop=stop_after_attempt(1))
        )
        try:
            response = send(self._http, retrying, method, path, json=json)
        except RetriesExhaustedError as exc:
            raise ServerUnavailableError(str(exc)) from exc
        if response.status_code >= 400:
            raise _api_error(response)
        return response

    def upsert_device(self, device: DeviceIn) -> dict[str, Any]:
        """Register or update the agent's device."""
        result: dict[str, Any] = self._request("POST", "/devices", device.model_dump()).json()
        return result

    def lease(self, device: str, max_jobs: int = 1, lease_seconds: int = 120) -> list[Job]:
        """Lease up to ``max_jobs`` queued jobs of ``device``."""
        body = {"device": device, "max_jobs": max_jobs, "lease_seconds": lease_seconds}
        jobs = self._request("POST", "/jobs/lease", body).json()["jobs"]
        return [Job.model_validate(j) for j in jobs]

    def heartbeat(self, job_id: int) -> Job:
        """Extend a job's lease (one attempt: the next beat is the retry).

        Raises:
            LeaseLostError: The lease was lost.
        """
        response = self._request("POST", f"/jobs/{job_id}/heartbeat", {}, retry=False)
        return Job.model_validate(response.json())

    def job(self, job_id: int) -> Job:
        """Read a job's current state."""
        return Job.model_validate(self._request("GET", f"/jobs/{job_id}").json())

    def complete(self, job_id: int, measurement: Measurement) -> int:
        """Complete a job with its measurement; returns the measurement id (idempotent)."""
        body = measurement.model_dump(mode="json")
        return int(self._request("POST", f"/jobs/{job_id}/complete", body).json()["measurement_id"])

    def fail(self, job_id: int, reason: str, retryable: bool = False) -> Job:
        """Fail a job (``retryable`` puts it back in the queue while attempts remain)."""
        body = {"reason": reason[:2000], "retryable": retryable}
        return Job.model_validate(self._request("POST", f"/jobs/{job_id}/fail", body).json())

    def upload(self, measurement: Measurement) -> tuple[int, bool]:
        """Upload a measurement outside a job; returns ``(id, duplicate)``."""
        body = self._request("POST", "/measurements", measurement.model_dump(mode="json")).json()
        return int(body["id"]), bool(body["duplicate"])

    def model_onnx(self, model_id: str) -> bytes:
        """Download a model's ONNX bytes."""
        return self._request("GET", f"/models/{model_id}/onnx").content


def _api_error(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", response.text[:500]
    cls = LeaseLostError if response.status_code == 409 else ApiError
    return cls(response.status_code, code, message)
