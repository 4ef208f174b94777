"""Who may read the dashboard: client or admin tokens, by bearer header or login cookie.

Scripts send ``Authorization: Bearer <token>``; browsers log in once through a form that
stores the token in an HttpOnly, SameSite=Strict cookie (Secure when served over https).
Tokens are checked by the service's own token lookup (:class:`service.state.TokenCache`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service.api.deps import State
from service.core.errors import Forbidden, Unauthorized
from service.crud.tokens import Principal
from service.dashboard.render import base_path, render

COOKIE = "perfloop_dashboard"
VIEWER_SCOPES = ("admin", "client")
COOKIE_MAX_AGE_S = 7 * 24 * 3600

router = APIRouter(prefix="/dashboard", include_in_schema=False)


class LoginRequired(Unauthorized):
    """A browser without a (valid) login cookie: answered by a redirect to the login form."""


def _check_scope(principal: Principal) -> Principal:
    if principal.scope not in VIEWER_SCOPES:
        raise Forbidden(
            f"a {principal.scope!r} token may not view the dashboard "
            f"(needs one of {list(VIEWER_SCOPES)})"
        )
    return principal


def viewer(request: Request, state: State) -> Principal:
    """The dashboard reader, from the bearer header or else the login cookie.

    Raises:
        Unauthorized: a bearer header with an unknown or revoked token.
        LoginRequired: no header and no valid cookie.
        Forbidden: an agent token.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("malformed Authorization header (expected: Bearer <token>)")
        principal = state.tokens.lookup(state.db, raw.strip())
        if principal is None:
            raise Unauthorized("invalid or revoked token")
        return _check_scope(principal)
    cookie = request.cookies.get(COOKIE)
    principal = state.tokens.lookup(state.db, cookie) if cookie else None
    if principal is None:
        raise LoginRequired("log in to view the dashboard")
    return _check_scope(principal)


Viewer = Annotated[Principal, Depends(viewer)]


def _safe_next(request: Request, target: str | None) -> str:
    """``target`` when it is a dashboard path on this site, else the overview (no open redirect)."""
    home = base_path(request)
    if target and target.startswith(home) and not target.startswith("//"):
        return target
    return home


def login_redirect(request: Request, exc: Exception) -> Response:
    """Exception handler: send a browser without a valid login to the login form."""
    assert isinstance(exc, LoginRequired)
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    response = RedirectResponse(f"{base_path(request)}/login?next={target}", status_code=303)
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=base_path(request))
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """Login form asking for a client or admin token."""
    return render(request, "login.html", {"next": _safe_next(request, next), "error": None})


@router.post("/login")
def login(
    request: Request,
    state: State,
    token: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the token and set the login cookie."""
    principal = state.tokens.lookup(state.db, token.strip()) if token.strip() else None
    error, status = None, 200
    if principal is None:
        error, status = "That token is unknown or revoked.", 401
    elif principal.scope not in VIEWER_SCOPES:
        error = (
            f"A {principal.scope!r} token cannot view the dashboard; use a client or admin token."
        )
        status = 403
    if error is not None:
        context = {"next": _safe_next(request, next), "error": error}
        return render(request, "login.html", context, status_code=status)
    response = RedirectResponse(_safe_next(request, next), status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=COOKIE_MAX_AGE_S,
        path=base_path(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    """Forget the login cookie."""
    response = RedirectResponse(f"{base_path(request)}/login", status_code=303)
    response.delete_cookie(COOKIE, path=base_path(request))
    return response
