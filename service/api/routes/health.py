"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.deps import State
from service.api.responses import errors
from service.core.errors import error_body
from service.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses=errors(503))
def readyz(state: State) -> dict[str, Any] | JSONResponse:
    """The database is reachable and migrated to head (503 otherwise)."""
    try:
        current = current_revision(state.db.engine)
    except Exception as exc:  # any database failure means "not ready", never a 500
        body = error_body("database_unavailable", f"database unreachable: {type(exc).__name__}")
        return JSONResponse(body, status_code=503)
    head = head_revision()
    if current != head:
        message = f"database at revision {current!r}, head is {head!r}; run `perfloop db upgrade`"
        return JSONResponse(error_body("migrations_pending", message), status_code=503)
    return {"status": "ready", "revision": current}
