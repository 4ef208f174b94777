"""Per-token rate limits (429 + Retry-After) and the request body size limit (413)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.core.config import Settings
from service.core.db import Database
from service.core.limits import RateLimited, RateLimiter
from service.crud.tokens import create_token
from service.main import create_app
from tests.service.factories import tiny_onnx


def test_bucket_allows_the_burst_then_refuses_with_a_retry_time() -> None:
    limiter = RateLimiter(rate_per_s=0.01, burst=3)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(RateLimited) as info:
        limiter.check("a")
    assert info.value.status_code == 429
    assert 1 <= int(info.value.headers["Retry-After"]) <= 100
    limiter.check("b")  # buckets are per key


def test_rate_zero_means_unlimited() -> None:
    limiter = RateLimiter(rate_per_s=0, burst=1)
    for _ in range(1000):
        limiter.check("a")


@pytest.fixture
def limited_client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(
        update={"rate_limit_per_second": 0.01, "rate_limit_burst": 3, "max_request_bytes": 4096}
    )
    with TestClient(create_app(limited)) as test_client:
        yield test_client


def _bearer(db: Database, scope: str) -> dict[str, str]:
    with db.session(write=True) as session:
        return {"Authorization": f"Bearer {create_token(session, scope)}"}  # type: ignore[arg-type]


def test_a_token_over_its_rate_gets_429_and_others_do_not(
    limited_client: TestClient, db: Database
) -> None:
    first, second = _bearer(db, "client"), _bearer(db, "client")
    statuses = [limited_client.get("/api/v1/devices", headers=first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited_client.get("/api/v1/devices", headers=first)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert limited_client.get("/api/v1/devices", headers=second).status_code == 200


def test_oversized_json_bodies_are_413_but_uploads_have_their_own_limit(
    limited_client: TestClient, db: Database
) -> None:
    auth = _bearer(db, "admin")
    big = {"device": "dev1", "models": [{"model_id": "ab" * 32}] * 200}
    response = limited_client.post("/api/v1/predictions", json=big, headers=auth)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    chunked = limited_client.post(
        "/api/v1/predictions", content=iter([b"{" + b" " * 5000 + b"}"]), headers=auth
    )
    assert 400 <= chunked.status_code < 500
    model = tiny_onnx(channels=40, size=16)
    assert len(model) > 4096
    upload = limited_client.post("/api/v1/models", files={"file": ("m.onnx", model)}, headers=auth)
    assert upload.status_code == 201, upload.text
