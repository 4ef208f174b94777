"""Dashboard access: bearer header for scripts, login cookie for browsers, scopes."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from service.dashboard.auth import COOKIE
from tests.service.dashboard.conftest import Site


@pytest.fixture
def backend() -> str:
    """Access rules do not depend on the database; SQLite is enough."""
    return "sqlite"


def _set_cookie(header: str) -> dict[str, str | bool]:
    """Attributes of the Set-Cookie header for the dashboard cookie (lower-case keys)."""
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie[COOKIE]
    attrs: dict[str, str | bool] = {"value": morsel.value}
    attrs.update({k: v for k, v in morsel.items() if v})
    return attrs


def test_browser_without_login_is_sent_to_the_login_form(site: Site) -> None:
    response = site.client().get("/dashboard/jobs?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=/dashboard/jobs%3Fx%3D1"
    form = site.client().get(response.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text


@pytest.mark.parametrize(
    ("header", "status"),
    [("Bearer nope", 401), ("Basic abc", 401), ("Bearer ", 401)],
)
def test_bad_bearer_header_is_401_json(site: Site, header: str, status: int) -> None:
    response = site.client().get("/dashboard", headers={"Authorization": header})
    assert response.status_code == status
    assert response.json()["error"]["code"] == "unauthorized"


def test_client_and_admin_tokens_may_read_agent_tokens_may_not(site: Site) -> None:
    client = site.client()
    for token in (site.client_token, site.admin_token):
        assert client.get("/dashboard/jobs", headers=site.bearer(token)).status_code == 200
    response = client.get("/dashboard/jobs", headers=site.bearer(site.agent_token))
    assert response.status_code == 403
    assert "agent" in response.json()["error"]["message"]


def test_login_sets_a_strict_httponly_cookie_that_opens_the_pages(site: Site) -> None:
    client = site.client()
    form = {"token": site.client_token, "next": "/dashboard/jobs"}
    response = client.post("/dashboard/login", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/jobs"
    cookie = _set_cookie(response.headers["set-cookie"])
    assert cookie["value"] == site.client_token
    assert cookie["httponly"] is True
    assert str(cookie["samesite"]).lower() == "strict"
    assert "secure" not in cookie  # plain http on localhost (the demo) must work
    assert cookie["path"] == "/dashboard"
    assert client.get("/dashboard/jobs", follow_redirects=False).status_code == 200
    out = client.post("/dashboard/logout", follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/dashboard/jobs", follow_redirects=False).status_code == 303


def test_login_cookie_is_secure_over_https(site: Site) -> None:
    client = site.client(base_url="https://testserver")
    response = client.post(
        "/dashboard/login", data={"token": site.admin_token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert _set_cookie(response.headers["set-cookie"])["secure"] is True


def test_login_refuses_unknown_and_agent_tokens(site: Site) -> None:
    client = site.client()
    bad = client.post("/dashboard/login", data={"token": "plt_wrong"}, follow_redirects=False)
    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    assert "set-cookie" not in bad.headers
    agent = client.post("/dashboard/login", data={"token": site.agent_token})
    assert agent.status_code == 403 and "client or admin token" in agent.text


def test_login_does_not_redirect_off_the_dashboard(site: Site) -> None:
    client = site.client()
    for target in ("https://evil.example/", "//evil.example/dashboard", "/api/v1/devices"):
        response = client.post(
            "/dashboard/login",
            data={"token": site.client_token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/dashboard", target


def test_stale_cookie_is_cleared_and_redirected(site: Site) -> None:
    client = site.client()
    client.cookies.set(COOKIE, "plt_revoked_or_unknown", path="/dashboard")
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert (
        "Max-Age=0" in response.headers["set-cookie"]
        or "expires" in response.headers["set-cookie"].lower()
    )


def test_static_assets_are_served_without_login(site: Site) -> None:
    client = site.client()
    chart = client.get("/dashboard/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart.js v4.6.1" in chart.text[:200]
    assert client.get("/dashboard/static/dashboard.js").status_code == 200
