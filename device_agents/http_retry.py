"""One HTTP retry policy for every client of the service (agents and the search client).

Transport errors (connection refused, reset, timeouts), 429 and 5xx answers are retried with
exponential back-off; when the answer carries ``Retry-After`` (seconds), the next attempt waits
that long instead (capped at ``max_retry_after_s``). Built on tenacity.
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)


class TransientHTTPError(Exception):
    """A 429 or 5xx answer, retried like a transport error.

    Attributes:
        status: the HTTP status.
        retry_after_s: the answer's ``Retry-After`` in seconds, if it had a numeric one.
    """

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_s = retry_after_s


class RetriesExhaustedError(Exception):
    """The server could not be reached (or kept answering 429/5xx) after all attempts."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | TransientHTTPError)


def retry_after_s(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (HTTP-date forms are ignored)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class _WaitRetryAfter:
    """Exponential back-off, replaced by the server's ``Retry-After`` when it sent one."""

    def __init__(self, initial_wait_s: float, max_wait_s: float, max_retry_after_s: float):
        self._backoff = wait_exponential(multiplier=initial_wait_s, max=max_wait_s)
        self._cap = max_retry_after_s

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, TransientHTTPError) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self._cap)
        return float(self._backoff(state))


def retrying(
    max_attempts: int = 6,
    initial_wait_s: float = 0.5,
    max_wait_s: float = 30.0,
    max_retry_after_s: float = 120.0,
) -> Retrying:
    """The retry policy (a tenacity ``Retrying``; ``.copy(stop=...)`` adjusts it)."""
    return Retrying(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(max_attempts),
        wait=_WaitRetryAfter(initial_wait_s, max_wait_s, max_retry_after_s),
        reraise=False,
    )


def send(
    http: httpx.Client, policy: Retrying, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One request under ``policy``; returns the first answer that is neither 429 nor 5xx.

    Raises:
        RetriesExhaustedError: every attempt failed to connect or answered 429/5xx.
    """
    try:
        for attempt in policy.copy():
            with attempt:
                response = http.request(method, path, **kwargs)
                if response.status_code >= 500 or response.status_code == 429:
                    raise TransientHTTPError(response.status_code, retry_after_s(response))
    except RetryError as exc:
        raise RetriesExhaustedError(f"{method} {path}: {exc.last_attempt.exception()}") from exc
    return response
