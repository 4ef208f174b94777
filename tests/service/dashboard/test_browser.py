"""End to end in headless Chromium: log in, open every page, no console errors, charts drawn.

Screenshots go to ``test-output/dashboard/``. Chromium is the Debian package
(``scripts/install_browser.sh``); the test skips, saying why, only when no browser is installed.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.service.dashboard.conftest import Site

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "test-output" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Counts canvas pixels that are not fully transparent (a drawn chart has thousands).
INKED_PIXELS_JS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { inked += 1; } }
  return inked;
}"""


@pytest.fixture
def backend() -> str:
    """One backend is enough here (the page tests cover both)."""
    return "sqlite"


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path is None:
        pytest.skip("no chromium browser installed (run scripts/install_browser.sh as root)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server_url(site: Site) -> Iterator[str]:
    """The filled site served by uvicorn on a free local port (plain http)."""
    port = _free_port()
    config = uvicorn.Config(
        site.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


class Problems:
    """Console errors, uncaught exceptions and failed requests seen by the page."""

    def __init__(self, page: Any) -> None:
        self.items: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"pageerror: {exc}"))
        page.on("requestfailed", lambda req: self.items.append(f"failed: {req.url}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.items.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.items.append(f"HTTP {response.status}: {response.url}")


def _check_charts(page: Any, name: str) -> int:
    canvases = page.locator("canvas[data-chart]")
    n = canvases.count()
    if n == 0:
        return 0
    assert page.locator("body").get_attribute("data-charts-drawn") == str(n), name
    for i in range(n):
        inked = canvases.nth(i).evaluate(INKED_PIXELS_JS)
        assert inked > 500, f"{name}: chart {i} looks empty ({inked} inked pixels)"
    return n


def _api_mape(site: Site, device: str, version: str) -> tuple[int, str]:
    """(count, MAPE as the dashboard prints it) of a version's latency rows in GET /error-report."""
    response = site.client().get(f"/api/v1/error-report?device={device}", headers=site.bearer())
    rows = [
        r
        for r in response.json()["rows"]
        if r["predictor_version"] == version and r["metric"] == "latency_ms"
    ]
    n = sum(r["count"] for r in rows)
    return n, f"{sum(r['mape'] * r['count'] for r in rows) / n:.1f}%"


def _cells(page: Any, selector: str, first: str) -> list[str]:
    row = page.locator(f"{selector} tr", has_text=first).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def _numbers_match_the_api(page: Any, site: Site, name: str) -> None:
    n, mape = _api_mape(site, "edge-cpu", "v2")
    if name == "overview":
        live = page.locator('td.live-mape[data-device="edge-cpu"]').inner_text()
        assert live.startswith(f"{mape} (n={n};"), live
    if name == "device":
        assert _cells(page, "#by-version", "v2")[:3] == ["v2", str(n), mape]


def test_pages_render_in_chromium_with_charts_and_no_errors(site: Site, server_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="python package playwright")
    executable = _chromium()
    assert site.scenario is not None
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "overview": ("/dashboard", 1),
        "device": ("/dashboard/devices/edge-cpu", 8),
        "jobs": ("/dashboard/jobs", 0),
        "model": (f"/dashboard/models/{site.scenario.worst_model}", 0),
    }
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            problems = Problems(page)
            page.goto(f"{server_url}/dashboard/devices/edge-cpu")
            assert "/dashboard/login" in page.url
            page.screenshot(path=str(SHOTS / "login.png"), full_page=True)
            page.fill("input[name=token]", site.client_token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server_url}/dashboard/devices/edge-cpu")
            for name, (path, expected_charts) in pages.items():
                page.goto(f"{server_url}{path}")
                page.wait_for_load_state("load")
                assert _check_charts(page, name) == expected_charts, name
                _numbers_match_the_api(page, site, name)
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        finally:
            browser.close()
    assert problems.items == []
    assert all((SHOTS / f"{name}.png").stat().st_size > 10_000 for name in pages)
