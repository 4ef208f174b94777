"""Run a backend's profile in a child process, so a crash in native code cannot kill the agent.

The parent writes ``request.json`` and ``model.onnx`` to a temporary directory and starts
``python -m device_agents.isolation DIR``; the child writes ``result.json``: either
``{"result": BackendResult}`` or ``{"unsupported": reason}``. A child that dies (signal, exit code,
timeout) becomes a :class:`BackendCrashError` in the parent.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from device_agents.backends.base import BackendResult, UnsupportedModelError
from device_agents.backends.registry import get_backend
from device_agents.protocol import MeasurementProtocol

logger = logging.getLogger(__name__)


class BackendCrashError(Exception):
    """The backend died while profiling (signal, non-zero exit, timeout)."""


class ProfileCancelledError(Exception):
    """The agent is stopping; the profile was abandoned."""


class BackendRunner:
    """Profiles models with one backend, in-process or in a child process.

    Args:
        backend_name: Registry name (or ``module:Class``) of the backend.
        isolate: Run each profile in a child process.
        timeout_s: Kill a child that runs longer than this.
        stop: Set when the agent must stop; an isolated profile is then abandoned.
    """

    def __init__(
        self,
        backend_name: str,
        isolate: bool = True,
        timeout_s: float = 1800.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.backend_name = backend_name
        self.backend = get_backend(backend_name)
        self.isolate = isolate
        self.timeout_s = timeout_s
        self.stop = stop or threading.Event()

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Profile one model.

        Raises:
            UnsupportedModelError: The backend cannot run the model.
            BackendCrashError: The child process died.
            ProfileCancelledError: ``stop`` was set while an isolated profile ran.
        """
        if not self.isolate:
            return self.backend.profile(onnx_bytes, protocol)
        with tempfile.TemporaryDirectory(prefix="perfloop-profile-") as tmp:
            work = Path(tmp)
            (work / "model.onnx").write_bytes(onnx_bytes)
            request = {"backend": self.backend_name, "protocol": protocol.model_dump()}
            (work / "request.json").write_text(json.dumps(request))
            self._run_child(work)
            return _read_result(work)

    def _run_child(self, work: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        with open(work / "stderr.txt", "wb") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "device_agents.isolation", str(work)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
            deadline = time.monotonic() + self.timeout_s
            while child.poll() is None:
                if self.stop.is_set():
                    _kill(child)
                    raise ProfileCancelledError("agent stopping; profile abandoned")
                if time.monotonic() > deadline:
                    _kill(child)
                    raise BackendCrashError(f"backend {self.backend_name} timed out")
                time.sleep(0.05)
        if child.returncode != 0:
            tail = (work / "stderr.txt").read_text(errors="replace")[-800:]
            how = (
                f"signal {-child.returncode}"
                if child.returncode < 0
                else f"exit {child.returncode}"
            )
            raise BackendCrashError(f"backend {self.backend_name} crashed ({how}): {tail.strip()}")


def _kill(child: subprocess.Popen[bytes]) -> None:
    child.kill()
    child.wait()


def _read_result(work: Path) -> BackendResult:
    path = work / "result.json"
    if not path.exists():
        raise BackendCrashError("backend process exited without a result")
    payload = json.loads(path.read_text())
    if "unsupported" in payload:
        raise UnsupportedModelError(payload["unsupported"])
    return BackendResult.model_validate(payload["result"])


def _child_main(work: Path) -> int:
    request = json.loads((work / "request.json").read_text())
    backend = get_backend(request["backend"])
    protocol = MeasurementProtocol.model_validate(request["protocol"])
    onnx_bytes = (work / "model.onnx").read_bytes()
    try:
        result = backend.profile(onnx_bytes, protocol)
        payload: dict[str, object] = {"result": result.model_dump(mode="json")}
    except UnsupportedModelError as exc:
        payload = {"unsupported": exc.reason}
    tmp = work / "result.json.tmp"
    tmp.write_text(json.dumps(payload))
    tmp.replace(work / "result.json")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(_child_main(Path(sys.argv[1])))
