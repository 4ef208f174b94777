"""The error answers of the API, declared in the OpenAPI schema.

Every error has the body of :func:`service.core.errors.error_body`; the schema says so, and says
which status codes each route may answer (schemathesis checks both against the running app).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message and the offending field (if any)."""

    code: str = Field(description="Stable machine-readable code, e.g. 'not_found'.")
    message: str
    field: str | None = Field(description="The offending request field, if one is to blame.")


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


_WHY: dict[int, str] = {
    400: "The request body could not be parsed.",
    401: "No valid bearer token.",
    403: "The token's scope or device does not allow this.",
    404: "A referenced resource does not exist.",
    409: "Conflicts with the current state (e.g. lost lease, no active predictor).",
    413: "The request body is over the configured limit.",
    422: "The request is malformed or its content invalid.",
    429: "Rate limit of this token exceeded (see Retry-After).",
    503: "A dependency (database, predictor artifact) is unavailable; retry.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error status codes.

    Args:
        codes: HTTP status codes, each one of those described in this module.

    Returns:
        A mapping to pass as ``responses=`` to a router or route.
    """
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}


# Every authenticated route: unparsable body, bad token, scope, body limit, invalid request, rate
# limit and an unreachable database.
AUTHENTICATED: dict[int | str, dict[str, Any]] = errors(400, 401, 403, 413, 422, 429, 503)
