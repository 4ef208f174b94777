"""Per-token rate limits (token bucket, 429 with Retry-After) and a request body size limit.

Rate limits are per API process: with N replicas behind a balancer a token gets up to N times
the configured rate (set the per-process rate accordingly; docs/SCALING.md).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import ServiceError, error_body


class RateLimited(ServiceError):
    """429: this token sent more requests than its rate allows."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(f"rate limit exceeded for this token; retry in {seconds} s")
        self.headers = {"Retry-After": str(seconds)}


class RateLimiter:
    """A token bucket per key: ``rate_per_s`` sustained, ``burst`` at once; rate 0 = no limit."""

    def __init__(self, rate_per_s: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate_per_s = rate_per_s
        self.burst = max(1, burst)
        self._max_keys = max_keys
        self._buckets: dict[Any, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: Any) -> None:
        """Take one request from ``key``'s bucket.

        Raises:
            RateLimited: the bucket is empty (carries the seconds until one request is allowed).
        """
        if self.rate_per_s <= 0:
            return
        now = time.monotonic()
        with self._lock:
            level, stamp = self._buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - stamp) * self.rate_per_s)
            if level < 1.0:
                self._buckets[key] = (level, now)
                raise RateLimited((1.0 - level) / self.rate_per_s)
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._buckets.clear()
            self._buckets[key] = (level - 1.0, now)


class BodySizeLimit:
    """ASGI middleware: request bodies over ``max_bytes`` get 413 (model uploads excepted: the
    upload route enforces ``max_model_bytes`` itself)."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        import json

        body = json.dumps(
            error_body("body_too_large", f"request body over {self.max_bytes} bytes")
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
