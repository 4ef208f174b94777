"""A local service onboarded with measured LLM steps: time a graph-only 1B upload, run examples.

Starts the service (``perfloop.stack.start_service``, SQLite in a temporary data dir), activates
a predictor (``--artifact``, default the quick NB201-CPU one of :mod:`benchmarks.llm_eval`),
registers the device ``ort-cpu-llm`` and uploads, as its agent would, the ``--k`` measured
steps :func:`predictor.api.select_measurements` picks from ``--data`` (their models stored from
the spec IRs). Then: uploads a graph-only 1.1B-parameter decoder (< 1 MB; weights absent) and
times upload + one prediction over HTTP; runs ``examples/llm_pareto_sweep.py`` and
``examples/llm_optuna_search.py`` against the service and keeps their output.

Run: ``python -m benchmarks.llm_service_demo --out docs/results/llm_service_demo.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks.llm_eval import DEVICE, SPACE, base_artifact
from device_agents.client import AgentClient
from device_agents.schemas import DeviceIn, Environment, LatencyStats, Measurement
from perfloop.stack import Stack, make_token, start_service
from predictor.api import select_measurements
from service.crud import models as model_crud
from service.crud import predictors as predictor_crud


def onboard(stack: Stack, data: Path, k: int) -> list[str]:
    """Register the device and upload ``k`` picked measured steps; their encoded specs."""
    steps = [json.loads(x) for x in data.read_text().splitlines() if x.strip()]
    steps = [r for r in steps if r["kind"] == "step"]
    graphs = [SPACE.to_ir(r["spec"]) for r in steps]
    picked = [steps[i] for i in select_measurements(graphs, [], k)]
    token = make_token(stack.state.db, "agent", DEVICE)
    agent = AgentClient(stack.url, token)
    agent.upsert_device(DeviceIn(name=DEVICE, kind="cpu", runtime="onnxruntime", simulated=False))
    for row in picked:
        model_id = hashlib.sha256(f"llm:{row['encoded']}".encode()).hexdigest()
        with stack.state.db.session(write=True) as session:
            graph = SPACE.to_ir(row["spec"])
            model_crud.insert(
                session, model_crud.new_row(model_id, 0, graph, space="llm", spec=row["spec"])
            )
        lat = row["latency_ms"]
        stats = LatencyStats(
            median=lat,
            mean=row["latency_mean_ms"],
            std=0.0,
            p10=lat,
            p90=lat,
            n_runs=row["runs"],
            warmup_runs=1,
        )
        env = Environment(
            backend="ort-cpu",
            runtime="onnxruntime",
            runtime_version=row["runtime_version"],
            threads=row["threads"],
            agent_version="benchmarks.llm_measure",
            extra={"protocol_clock": row["clock"]},
        )
        agent.upload(
            Measurement(
                model_id=model_id,
                device=DEVICE,
                idempotency_key=uuid.uuid4().hex,
                measurement_kind="measured",
                latency_ms=stats,
                environment=env,
            )
        )
    agent.close()
    return [r["encoded"] for r in picked]


def time_graph_only(stack: Stack) -> dict[str, Any]:
    """Upload the 1.1B graph-only decoder and predict it; wall times over HTTP."""
    sys.path.insert(0, str(Path.cwd()))
    from tests.predictor.ir.models import decoder_graph_only

    data = decoder_graph_only(32000, 2048, 20, 5632).SerializeToString()
    headers = {"Authorization": f"Bearer {stack.client_token}"}
    with httpx.Client(base_url=stack.url + "/api/v1", headers=headers, timeout=60) as http:
        t0 = time.perf_counter()
        up = http.post(
            "/models", content=data, headers={"Content-Type": "application/octet-stream"}
        )
        t1 = time.perf_counter()
        pred = http.post("/predictions", json={"device": DEVICE, "model_ids": [up.json()["id"]]})
        t2 = time.perf_counter()
        http.post("/predictions", json={"device": DEVICE, "model_ids": [up.json()["id"]]})
        t3 = time.perf_counter()
    model = up.json()
    return {
        "file_bytes": len(data),
        "params": model["params"],
        "graph_only": model["graph_only"],
        "upload_s": round(t1 - t0, 3),
        "prediction_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 3),
        "repeat_prediction_s": round(t3 - t2, 3),
        "latency_ms": pred.json()["predictions"][0]["metrics"]["latency_ms"],
    }


def run_example(stack: Stack, script: str, *extra: str) -> str:
    """Run an example against the service; its stdout."""
    cmd = [
        sys.executable,
        f"examples/{script}",
        "--url",
        stack.url,
        "--token",
        stack.client_token,
        "--device",
        DEVICE,
        *extra,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    shown = ["python", f"examples/{script}", "--url", "URL", "--token", "TOKEN", "--device"]
    command = " ".join([*shown, DEVICE, *extra])
    return f"$ {command}\n{done.stdout}{done.stderr[-2000:]}"


def main(argv: list[str] | None = None) -> None:
    """CLI: start, onboard, time, run the examples, write the transcript."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("docs/results/llm_ort_cpu.jsonl"))
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("docs/results/llm_service_demo.txt"))
    args = parser.parse_args(argv)
    artifact = args.artifact or base_artifact(Path(tempfile.gettempdir()) / "llm_base_artifact")
    stack = start_service(Path(tempfile.mkdtemp(prefix="llm-demo-")))
    try:
        with stack.state.db.session(write=True) as session:
            predictor_crud.register(session, "llm-demo", str(artifact), {})
            predictor_crud.activate(session, "llm-demo")
        onboarded = onboard(stack, args.data, args.k)
        time.sleep(2.0)  # the service refreshes its active predictor every second
        # One prediction of an onboarded spec first: loads the artifact and fits the device's
        # few-shot head, which any first prediction on a device pays once.
        headers = {"Authorization": f"Bearer {stack.client_token}"}
        spec = {"space": "llm", "arch": SPACE.decode(onboarded[0])}
        httpx.post(
            f"{stack.url}/api/v1/predictions",
            json={"device": DEVICE, "specs": [spec]},
            headers=headers,
            timeout=120,
        )
        timing = time_graph_only(stack)
        parts = [
            f"onboarded {DEVICE} with {len(onboarded)} measured steps; load {os.getloadavg()}",
            "graph-only 1.1B upload + prediction: " + json.dumps(timing),
            run_example(stack, "llm_pareto_sweep.py"),
            run_example(
                stack,
                "llm_optuna_search.py",
                "--ttft-ms",
                "1500",
                "--decode-ms",
                "80",
                "--trials",
                str(args.trials),
            ),
        ]
    finally:
        stack.stop()
    args.out.write_text("\n\n".join(parts) + "\n")
    print("\n\n".join(parts))


if __name__ == "__main__":
    main()
