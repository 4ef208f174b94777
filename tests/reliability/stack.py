"""A service stack of real processes on loopback: API replicas (uvicorn) over one database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.core.db import Database
from service.crud.tokens import create_token

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """API replicas sharing ``db_url``; every process it starts is stopped by :meth:`close`."""

    def __init__(self, db_url: str, data_dir: Path, **settings: str) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "PERFLOOP_DATABASE_URL": db_url,
            "PERFLOOP_DATA_DIR": str(data_dir),
            "PERFLOOP_PREDICTOR_REFRESH_SECONDS": "0",
            "PERFLOOP_TOKEN_CACHE_SECONDS": "0",
            "PYTHONPATH": str(ROOT),
            **{f"PERFLOOP_{k.upper()}": v for k, v in settings.items()},
        }
        self.replicas: list[tuple[subprocess.Popen[bytes], str]] = []
        self.others: list[subprocess.Popen[bytes]] = []
        self.db = Database(db_url)

    def token(self, scope: str, device: str | None = None) -> str:
        """A new raw token."""
        with self.db.session(write=True) as session:
            return create_token(session, scope, device)  # type: ignore[arg-type]

    def start_replica(self, port: int | None = None) -> str:
        """Start one uvicorn process; returns its base URL once /readyz answers."""
        port = port or free_port()
        command = [
            sys.executable, "-m", "uvicorn", "tests.reliability.app:create_test_app",
            "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        log = (self.data_dir / f"replica-{port}.log").open("ab")
        process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        log.close()
        url = f"http://127.0.0.1:{port}"
        self.replicas.append((process, url))
        wait_ready(url, process)
        return url

    def stop_replica(self, url: str, kill: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL) the replica serving ``url``."""
        for process, replica_url in self.replicas:
            if replica_url == url and process.poll() is None:
                process.kill() if kill else process.terminate()
                process.wait(timeout=30)

    def spawn(self, command: list[str], log_name: str, **env: str) -> subprocess.Popen[bytes]:
        """Start another process (an agent) with the stack's environment plus ``env``."""
        log = (self.data_dir / log_name).open("ab")
        process = subprocess.Popen(
            command, env={**self.env, **env}, cwd=ROOT, stdout=log, stderr=log
        )
        log.close()
        self.others.append(process)
        return process

    def close(self) -> None:
        """Stop every process this stack started and close the database engine."""
        for process in [p for p, _ in self.replicas] + self.others:
            if process.poll() is None:
                process.terminate()
        for process in [p for p, _ in self.replicas] + self.others:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        self.db.dispose()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Poll ``url``/readyz until 200.

    Raises:
        RuntimeError: the process exited or the deadline passed.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"replica {url} not ready after {timeout_s} s")
