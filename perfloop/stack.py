"""A local perfloop stack: the service (uvicorn in a thread, SQLite in a data dir) and agents
(``python -m perfloop agent`` subprocesses, one per backend), for the demo and end-to-end tests.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from predictor.api import load_predictor
from service.core.config import Settings
from service.core.db import Database, make_engine
from service.crud.tokens import create_token
from service.main import create_app
from service.migrate import upgrade
from service.shipped import install_shipped
from service.state import AppState

logger = logging.getLogger(__name__)

#: A short measurement protocol for demos (labelled so in the agents' logs, not in the numbers).
#: The demo runs five agents and the trainer on one machine, so host runtimes time the measuring
#: thread's CPU time (recorded as ``protocol_clock``): wall time there is mostly the other
#: processes' time slices.
QUICK_PROTOCOL = {
    "PERFLOOP_AGENT_CLOCK": "thread_cpu",
    "PERFLOOP_AGENT_MIN_RUNS": "10",
    "PERFLOOP_AGENT_MIN_TIME_S": "0.2",
    "PERFLOOP_AGENT_WARMUP_RUNS": "3",
    "PERFLOOP_AGENT_MAX_REMEASURE": "1",
    "PERFLOOP_AGENT_POLL_INTERVAL_S": "1",
    "PERFLOOP_AGENT_ISOLATE": "false",
}


@dataclass
class Stack:
    """A running service with its agents."""

    settings: Settings
    url: str
    admin_token: str
    client_token: str
    state: AppState
    server: uvicorn.Server
    thread: threading.Thread
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the agents (SIGTERM, then kill), then the server."""
        for proc in self.agents.values():
            proc.terminate()
        for proc in self.agents.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.state.db.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_token(db: Database, scope: str, device: str | None = None) -> str:
    """Create a token of ``scope`` (agents: bound to ``device``)."""
    with db.session(write=True) as session:
        return create_token(session, scope, device, label="perfloop demo")  # type: ignore[arg-type]


def start_service(
    data_dir: Path, port: int | None = None, audit_rate: float | None = None
) -> Stack:
    """Migrate the SQLite database in ``data_dir`` and serve the API on 127.0.0.1.

    ``audit_rate``: share of predictions audited (default: the ``PERFLOOP_AUDIT_RATE`` setting).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {} if audit_rate is None else {"audit_rate": audit_rate}
    settings = Settings(data_dir=data_dir.resolve(), predictor_refresh_seconds=1.0, **extra)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    state = AppState.build(settings, load_predictor)
    install_shipped(state.db, settings)
    admin, client = make_token(state.db, "admin"), make_token(state.db, "client")
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="perfloop-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the service did not start on port {port}")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    return Stack(settings, url, admin, client, state, server, thread)


def start_agent(stack: Stack, backend: str, device: str, quick_protocol: bool = True) -> None:
    """Start ``perfloop agent`` for ``backend`` as a subprocess logging to the data dir."""
    token = make_token(stack.state.db, "agent", device)
    data_dir = stack.settings.data_dir
    env = dict(os.environ)
    env.update(QUICK_PROTOCOL if quick_protocol else {})
    env["PERFLOOP_AGENT_SPOOL_DIR"] = str(data_dir / "spool" / device)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "perfloop", "agent", "--server", stack.url]
    command += ["--token", token, "--backend", backend, "--device", device]
    with (logs / f"agent-{device}.log").open("ab") as log:
        stack.agents[device] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    logger.info("agent %s (%s) started, pid %d", device, backend, stack.agents[device].pid)
