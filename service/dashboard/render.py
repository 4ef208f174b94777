"""Template rendering for the dashboard: one Jinja2 environment, number filters, safe headers."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

#: Everything comes from this site; charts get their data from inert JSON blocks.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def base_path(request: Request) -> str:
    """URL path of the dashboard root (honours an ASGI ``root_path``)."""
    return f"{request.scope.get('root_path', '')}/dashboard"


def human(value: float | int | None, unit: str = "") -> str:
    """A number with SI prefixes for large values: 1234567 -> '1.23 M'."""
    if value is None:
        return "–"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}".rstrip()
    if isinstance(value, int):
        return f"{value} {unit}".rstrip()
    return f"{value:.4g} {unit}".rstrip()


def when(value: datetime | None) -> str:
    """A UTC timestamp to the second, or a dash."""
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def pct(value: float | None) -> str:
    """A percentage with one decimal, or a dash."""
    return "–" if value is None else f"{value:.1f}%"


def sig(value: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits (0.99114 -> '0.991'), or a dash."""
    return "–" if value is None else f"{value:.{digits}g}"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The dashboard's template environment (built on first use)."""
    env = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env.env.filters.update(human=human, when=when, pct=pct, sig=sig)
    return env


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` with the dashboard's common context and security headers."""
    full = {"base": base_path(request), "page": name.removesuffix(".html"), **context}
    response = templates().TemplateResponse(request, name, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response
