"""The shared retry policy: which answers are retried and how long it waits."""

from __future__ import annotations

import httpx
import pytest

from device_agents.http_retry import RetriesExhaustedError, retrying, send


def _client(statuses: list[tuple[int, dict[str, str]]]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        status, headers = statuses.pop(0)
        return httpx.Response(status, headers=headers)

    return httpx.Client(base_url="http://x", transport=httpx.MockTransport(handler))


def test_retry_after_replaces_the_backoff() -> None:
    slept: list[float] = []
    policy = retrying(initial_wait_s=5.0).copy(sleep=slept.append)
    http = _client([(429, {"Retry-After": "7"}), (503, {}), (200, {})])
    assert send(http, policy, "GET", "/a").status_code == 200
    assert slept[0] == 7.0  # the header, not the 5 s back-off
    assert slept[1] == 10.0  # no header: exponential back-off (5 s doubled at attempt 2)


def test_retry_after_is_capped_and_dates_are_ignored() -> None:
    slept: list[float] = []
    policy = retrying(initial_wait_s=1.0, max_retry_after_s=30.0).copy(sleep=slept.append)
    http = _client([(429, {"Retry-After": "3600"}), (429, {"Retry-After": "Wed"}), (200, {})])
    send(http, policy, "GET", "/a")
    assert slept == [30.0, 2.0]


def test_exhausted_attempts_raise() -> None:
    policy = retrying(max_attempts=2).copy(sleep=lambda _s: None)
    with pytest.raises(RetriesExhaustedError, match="HTTP 500"):
        send(_client([(500, {}), (500, {})]), policy, "GET", "/a")
