"""Server-rendered dashboard of devices, jobs and prediction error (``/dashboard``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.dashboard import auth, routes
from service.dashboard.ops import DominantOps
from service.dashboard.render import STATIC_DIR


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard pages, its login, its static files and its login redirect to ``app``."""
    app.state.perfloop_dashboard_ops = DominantOps()
    app.include_router(auth.router)
    app.include_router(routes.router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard_static")
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)
