"""Request dependencies: application state, the caller's principal, scope and device checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, Unauthorized
from service.crud import devices as device_crud
from service.crud.tokens import Principal
from service.models import Device
from service.schemas import Scope
from service.state import AppState

_bearer = HTTPBearer(auto_error=False, description="perfloop API token")


def get_state(request: Request) -> AppState:
    """The application's state."""
    state: AppState = request.app.state.perfloop
    return state


State = Annotated[AppState, Depends(get_state)]


def get_principal(
    state: State, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """The caller identified by its bearer token.

    Raises:
        Unauthorized: no token, or an unknown or revoked one.
        RateLimited: the token went over ``rate_limit_per_second`` (429, Retry-After).
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    principal = state.tokens.lookup(state.db, credentials.credentials)
    if principal is None:
        raise Unauthorized("invalid or revoked token")
    state.rate_limiter.check(principal.token_id)
    return principal


def require(*scopes: Scope) -> Callable[..., Principal]:
    """A dependency admitting only tokens whose scope is ``admin`` or one of ``scopes``."""
    allowed = {"admin", *scopes}

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.scope not in allowed:
            raise Forbidden(
                f"a {principal.scope!r} token may not do this (needs one of {sorted(allowed)})"
            )
        return principal

    return dependency


Admin = Annotated[Principal, Depends(require())]
Client = Annotated[Principal, Depends(require("client"))]
Agent = Annotated[Principal, Depends(require("agent"))]
Anyone = Annotated[Principal, Depends(require("client", "agent"))]


def check_device_scope(principal: Principal, name: str) -> None:
    """An agent token may only act for its own device.

    Raises:
        Forbidden: an agent token bound to another device.
    """
    if principal.scope == "agent" and principal.device != name:
        raise Forbidden(
            f"this agent token is bound to device {principal.device!r}, not {name!r}",
            field="device",
        )


def usable_device(session: Session, principal: Principal, name: str) -> Device:
    """The device ``name``, checking that it exists and that this token may use it.

    Raises:
        Forbidden: an agent token bound to another device.
        NotFound: no such device.
    """
    check_device_scope(principal, name)
    return device_crud.get(session, name)
