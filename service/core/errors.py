"""Domain errors of the service and the one place that maps errors to HTTP responses.

Every 4xx answer has the body ``{"error": {"code": str, "message": str, "field": str | null}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from predictor.api import ModelLoadError

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A domain error with an HTTP status, a stable code and the offending field (if any)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class Unauthorized(ServiceError):
    """No valid bearer token."""

    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    """The token's scope does not allow this."""

    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    """A referenced row does not exist."""

    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request conflicts with the current state (lost lease, no active predictor...)."""

    status_code = 409
    code = "conflict"


class Unavailable(ServiceError):
    """A dependency of the request (e.g. the active predictor's artifact) cannot be used."""

    status_code = 503
    code = "unavailable"


class PayloadTooLarge(ServiceError):
    """The request body is over the configured limit."""

    status_code = 413
    code = "payload_too_large"


class Unprocessable(ServiceError):
    """The request is well-formed but its content is invalid."""

    status_code = 422
    code = "invalid_request"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON error envelope."""
    return {"error": {"code": code, "message": message, "field": field}}


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    headers = getattr(exc, "headers", None) or headers  # e.g. Retry-After on 429
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field), status_code=exc.status_code, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "invalid"}
    field = _field_of(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid request"))
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx")
        detail = ctx.get("error", message) if isinstance(ctx, dict) else message
        message = f"request body is not valid JSON: {detail}"
        field = None
    elif field:
        message = f"{field}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return JSONResponse(error_body("validation_error", message, field), status_code=422)


async def _model_load_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelLoadError)
    status = 413 if exc.code == "model_too_large" else 422
    return JSONResponse(error_body(exc.code, str(exc), "model"), status_code=status)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail), None), status_code=exc.status_code, headers=exc.headers
    )


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    """The database is unreachable (restart, failover): 503, the client retries; the pool
    (pre-ping) reconnects on the next request once it is back."""
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                   type(exc).__name__)  # fmt: skip
    body = error_body("database_unavailable", "database unavailable; retry shortly")
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the error -> HTTP response mapping on ``app``."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ModelLoadError, _model_load_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(Exception, _unexpected_error)
