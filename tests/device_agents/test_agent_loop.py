"""The agent loop against a real HTTP server: jobs, failures, crashes, spool, restarts, signals."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agent_models import custom_op_model, erf_model, mobile_cnn, small_cnn
from contract_server import ServerThread, State, free_port

from device_agents.agent import Agent
from device_agents.backends.base import BackendResult
from device_agents.client import AgentClient
from device_agents.isolation import BackendRunner
from device_agents.protocol import MeasurementProtocol
from device_agents.spool import Spool

FAST = MeasurementProtocol(warmup_runs=2, min_runs=10, min_time_s=0.0, max_remeasure=0)
HERE = Path(__file__).parent
# The agent's own commands in a root app (perfloop.cli also loads other packages' commands).
CLI = (
    "import typer; from device_agents.cli import register; app = typer.Typer();"
    " app.callback()(lambda: None); register(app); app()"
)


_OPEN: list[AgentClient] = []


@pytest.fixture
def server() -> Iterator[ServerThread]:
    srv = ServerThread(State(), free_port())
    srv.start()
    yield srv
    while _OPEN:
        _OPEN.pop().close()
    if srv._server is not None and not srv._server.should_exit:
        srv.stop()


def _add_model(state: State, onnx_bytes: bytes) -> str:
    model_id = hashlib.sha256(onnx_bytes).hexdigest()
    state.models[model_id] = onnx_bytes
    return model_id


class HookedRunner(BackendRunner):
    """A real runner that calls ``after`` once a profile has finished (to stop the server...)."""

    after: Callable[[], None] = staticmethod(lambda: None)

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        result = super().profile(onnx_bytes, protocol)
        self.after()
        return result


def _agent(
    server: ServerThread,
    tmp_path: Path,
    backend: str = "ort-cpu",
    isolate: bool = True,
    runner: BackendRunner | None = None,
    device: str = "dev1",
) -> Agent:
    client = AgentClient(
        server.url,
        server.state.token,
        timeout_s=5,
        max_attempts=2,
        initial_wait_s=0.01,
        max_wait_s=0.05,
    )
    _OPEN.append(client)
    return Agent(
        client,
        runner or BackendRunner(backend, isolate=isolate),
        device,
        Spool(tmp_path / "spool"),
        FAST,
        heartbeat_interval_s=0.05,
        poll_interval_s=0.1,
    )


def test_once_measures_the_queue_and_uploads(server: ServerThread, tmp_path: Path) -> None:
    state = server.state
    ids = [state.add_job("dev1", _add_model(state, m)) for m in (small_cnn(), mobile_cnn())]
    agent = _agent(server, tmp_path)
    assert agent.run(once=True) == 0
    assert [state.jobs[i]["status"] for i in ids] == ["done", "done"]
    device = state.devices["dev1"]
    assert device["kind"] == "cpu" and device["simulated"] is False
    assert device["hardware"]["runtime_version"] and device["hardware"]["cpu"]
    assert len(state.measurements) == 2
    for m in state.measurements:
        assert m["measurement_kind"] == "measured"
        assert m["latency_ms"]["n_runs"] >= 1 and m["latency_ms"]["median"] > 0
        assert m["latency_ms"]["warmup_runs"] == 2
        assert m["peak_memory_bytes"] >= 0
        env = m["environment"]
        assert env["backend"] == "ort-cpu" and env["runtime"] == "onnxruntime"
        assert env["threads"] == 1 and env["cpu"] and env["agent_version"]
    assert {m["model_id"] for m in state.measurements} == {
        j["model_id"] for j in state.jobs.values()
    }


def test_unsupported_op_fails_the_job_and_the_agent_goes_on(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    bad = state.add_job("dev1", _add_model(state, custom_op_model()))
    good = state.add_job("dev1", _add_model(state, small_cnn()))
    assert _agent(server, tmp_path).run(once=True) == 0
    assert state.jobs[bad]["status"] == "failed"
    assert "Frobnicate" in state.jobs[bad]["reason"]
    assert state.jobs[good]["status"] == "done"


def test_backend_crash_fails_the_job_and_the_agent_survives(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    crash = state.add_job("dev1", _add_model(state, erf_model()))
    good = state.add_job("dev1", _add_model(state, small_cnn()))
    agent = _agent(server, tmp_path, backend="agent_test_backends:CrashOnErfBackend")
    assert agent.run(once=True) == 0
    assert state.jobs[crash]["status"] == "failed"
    assert "crashed (signal 11)" in state.jobs[crash]["reason"]
    assert state.jobs[good]["status"] == "done"
    assert len(state.measurements) == 1


def test_result_survives_a_server_outage_and_is_uploaded_exactly_once(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    job = state.add_job("dev1", _add_model(state, small_cnn()))
    runner = HookedRunner("ort-cpu", isolate=False)
    runner.after = server.stop  # the server goes down after measuring, before the upload
    agent = _agent(server, tmp_path, runner=runner)
    assert agent.run(once=True) == 1
    spooled = list(agent.spool.pending())
    assert len(spooled) == 1 and spooled[0].job_id == job
    assert state.measurements == [] and state.jobs[job]["status"] == "leased"

    server.start()  # restart with the same data
    assert agent.flush_spool() == 0
    assert len(state.measurements) == 1 and state.jobs[job]["status"] == "done"
    assert state.measurements[0]["idempotency_key"] == spooled[0].measurement.idempotency_key

    agent.spool.put(spooled[0])  # the acknowledgement was lost: the agent uploads it again
    assert agent.flush_spool() == 0
    assert len(state.measurements) == 1


def test_lost_lease_uploads_the_result_as_a_plain_measurement(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    job = state.add_job("dev1", _add_model(state, small_cnn()))

    def expire() -> None:
        state.jobs[job]["status"] = "queued"  # lease expired and job was taken back
        time.sleep(1.0)  # let a heartbeat (every 0.05 s) see the 409

    runner = HookedRunner("ort-cpu", isolate=False)
    runner.after = expire
    agent = _agent(server, tmp_path, runner=runner)
    agent.process(agent.client.lease("dev1")[0])
    assert len(state.measurements) == 1 and len(agent.spool) == 0
    assert state.jobs[job]["status"] == "queued"


def test_result_of_a_job_completed_by_another_agent_is_dropped(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    job = state.add_job("dev1", _add_model(state, small_cnn()))

    def taken() -> None:  # the lease expired and another agent's result completed the job
        state.jobs[job]["status"] = "done"

    runner = HookedRunner("ort-cpu", isolate=False)
    runner.after = taken
    agent = _agent(server, tmp_path, runner=runner)
    agent.process(agent.client.lease("dev1")[0])
    assert state.measurements == [] and len(agent.spool) == 0  # one measurement per job


def test_heartbeats_extend_the_lease_while_measuring(server: ServerThread, tmp_path: Path) -> None:
    state = server.state
    state.add_job("dev1", _add_model(state, small_cnn()))
    runner = HookedRunner("ort-cpu", isolate=False)
    runner.after = lambda: time.sleep(0.3)
    _agent(server, tmp_path, runner=runner).run(once=True)
    assert state.heartbeats >= 2


def test_sigterm_releases_the_job_and_exits_cleanly(server: ServerThread, tmp_path: Path) -> None:
    state = server.state
    job = state.add_job("dev1", _add_model(state, small_cnn()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    cmd = [
        sys.executable,
        "-c",
        CLI,
        "agent",
        "--server",
        server.url,
        "--token",
        state.token,
        "--device",
        "dev1",
        "--backend",
        "agent_test_backends:SlowBackend",
        "--spool-dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while state.jobs[job]["status"] != "leased" and proc.poll() is None:
        assert time.monotonic() < deadline, "the agent never leased the job"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    assert state.jobs[job]["status"] == "queued"  # released for another attempt
    assert "agent stopping" in state.jobs[job]["reason"]
    assert state.measurements == []


def test_once_with_the_server_down_keeps_the_spool_and_returns(
    server: ServerThread, tmp_path: Path
) -> None:
    agent = _agent(server, tmp_path)
    server.stop()
    assert agent.run(once=True) == 0  # nothing spooled, nothing lost, no exception
    assert server.state.devices == {}


def test_bad_token_is_a_one_line_error(server: ServerThread, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-c",
        CLI,
        "agent",
        "--server",
        server.url,
        "--token",
        "wrong",
        "--backend",
        "ort-cpu",
        "--device",
        "dev1",
        "--once",
        "--spool-dir",
        str(tmp_path),
    ]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 2, done.stderr
    assert "HTTP 401 unauthorized" in done.stderr
    assert "Traceback" not in done.stderr


def test_simulated_backend_is_labelled_simulated_end_to_end(
    server: ServerThread, tmp_path: Path
) -> None:
    state = server.state
    job = state.add_job("mcu1", _add_model(state, small_cnn()))
    assert _agent(server, tmp_path, backend="tflm-m55", device="mcu1").run(once=True) == 0
    device = state.devices["mcu1"]
    assert device["kind"] == "mcu" and device["simulated"] is True
    assert device["hardware"]["target"] == "cortex-m55"
    assert state.jobs[job]["status"] == "done"
    (stored,) = state.measurements
    assert stored["measurement_kind"] == "simulated"
    assert stored["environment"]["cpu"] == "cortex-m55"
    assert stored["environment"]["clock_mhz"] == 400.0
    assert stored["energy_mj"] > 0 and stored["peak_memory_bytes"] > 0
    assert "protocol_clock" not in stored["environment"]["extra"]


def test_graph_only_model_runs_on_seeded_weights_and_says_so(
    server: ServerThread, tmp_path: Path
) -> None:
    import onnx

    from predictor.ir.graph_only import strip

    stripped = strip(onnx.load_from_string(small_cnn()), min_bytes=64).SerializeToString()
    state = server.state
    job = state.add_job("dev1", _add_model(state, stripped))
    assert _agent(server, tmp_path).run(once=True) == 0
    assert state.jobs[job]["status"] == "done"
    (measurement,) = state.measurements
    record = measurement["environment"]["extra"]["synthesized_weights"]
    assert record["seed"] == 0 and record["tensors"] >= 3 and record["bytes"] > 0
