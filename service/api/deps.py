"""Request dependencies: application state, the caller's principal, scope and device checks.

The dependencies are ``async``: FastAPI runs a sync dependency in the thread pool, one hop (two
thread switches and an event-loop wake-up) per dependency per request, which for a warm
single-model prediction cost more than the prediction's own service work. Only a token lookup
that misses the cache goes to the thread pool (it reads the database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, Unauthorized
from service.crud import devices as device_crud
from service.crud.tokens import Principal
from service.models import Device
from service.schemas import Scope
from service.state import AppState

_bearer = HTTPBearer(auto_error=False, description="perfloop API token")


async def get_state(request: Request) -> AppState:
    """The application's state."""
    state: AppState = request.app.state.perfloop
    return state


State = Annotated[AppState, Depends(get_state)]


async def get_principal(
    state: State, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """The caller identified by its bearer token.

    Raises:
        Unauthorized: no token, or an unknown or revoked one.
        RateLimited: the token went over ``rate_limit_per_second`` (429, Retry-After).
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    hit, principal = state.tokens.cached(credentials.credentials)
    if not hit:
        principal = await run_in_threadpool(state.tokens.lookup, state.db, credentials.credentials)
    if principal is None:
        raise Unauthorized("invalid or revoked token")
    state.rate_limiter.check(principal.token_id)
    return principal


def require(*scopes: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only tokens whose scope is ``admin`` or one of ``scopes``."""
    allowed = {"admin", *scopes}

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
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


async def require_device_writer(
    principal: Annotated[Principal, Depends(get_principal)],
) -> Principal:
    """Admit agent and admin tokens: a dependency, so a client is refused before its body is read.

    Raises:
        Forbidden: a client token (it may read devices but not register them).
    """
    if principal.scope == "client":
        raise Forbidden("client tokens may read devices but not register them")
    return principal


DeviceWriter = Annotated[Principal, Depends(require_device_writer)]


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
