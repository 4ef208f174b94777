"""PostgreSQL stopped and started under load: requests during the outage get 503 quickly
(never hang, never 500) and the replica recovers by itself (pool pre-ping), no restart."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.stack import Stack
from tests.service.databases import PostgresDatabases
from tests.service.factories import make_device

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


def pg_ctl(action: str) -> None:
    """Stop or start the local cluster (Debian's pg_ctlcluster)."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=120,
    )


def pg_ready() -> bool:
    done = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False)
    return done.returncode == 0


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs Debian's pg_ctlcluster")
def test_outage_gives_503_and_the_service_recovers(
    stack: Stack, postgres_databases: PostgresDatabases
) -> None:
    url = stack.start_replica()
    with stack.db.session(write=True) as session:
        make_device(session, "dev1")
    headers = {"Authorization": f"Bearer {stack.token('client')}"}
    stack.db.dispose()  # the test's own pool must not hold connections across the restart
    results: list[tuple[float, int, float]] = []  # (start, status, seconds)
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=30, headers=headers) as http:
            while not stop.is_set():
                start = time.monotonic()
                status = http.get(f"{url}/api/v1/devices/dev1").status_code
                results.append((start, status, time.monotonic() - start))
                time.sleep(0.05)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        pg_ctl("stop")
        time.sleep(4)
        pg_ctl("start")
        deadline = time.monotonic() + 60
        while not pg_ready() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(8)
    finally:
        if not pg_ready():
            pg_ctl("start")
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        postgres_databases._admin.dispose()  # its pooled connection died with the server
    statuses = {status for _, status, _ in results}
    assert statuses <= {200, 503}, statuses
    assert 503 in statuses  # the outage was seen
    assert max(seconds for _, _, seconds in results) < 15  # nothing hung
    last = sorted(results)[-10:]
    assert all(status == 200 for _, status, _ in last)  # recovered without a restart
