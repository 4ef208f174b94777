"""The traffic of ``perfloop bench load``: concurrent HTTP clients mixing every kind of request.

Each client runs every operation once, then loops until the deadline, picking one at a time by
weight: a single-model prediction, a batch prediction, an ONNX upload (a fixed set of files:
new at first, then deduplicated), a job cycle (a client enqueues a job for an uploaded
model, the device's agent leases it, downloads its ONNX, heartbeats and completes it with a
measurement) or a measurement upload. Every
request is timed and recorded under its route; any status >= 400 and any transport error counts
as an error.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/v1"

#: Operation -> relative weight in the mix.
WEIGHTS: dict[str, int] = {
    "predict_single": 50,
    "predict_batch": 10,
    "upload_onnx": 5,
    "job_cycle": 20,
    "upload_measurement": 15,
}


@dataclass
class Traffic:
    """What the clients send: tokens, devices, model ids, ONNX files."""

    client_token: str
    agent_tokens: dict[str, str]  # agent device -> token bound to it
    predict_device: str
    model_ids: list[str]
    onnx_files: list[bytes]
    batch_size: int = 100
    weights: dict[str, int] = field(default_factory=lambda: dict(WEIGHTS))


def parse_mix(text: str) -> dict[str, int]:
    """``"predict_single=50,job_cycle=20"`` -> weights (operations left out get weight 0).

    Raises:
        ValueError: unknown operation or a weight that is not a non-negative integer.
    """
    weights = dict.fromkeys(WEIGHTS, 0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        op, _, weight = part.partition("=")
        if op not in WEIGHTS or not weight.isdigit():
            raise ValueError(f"bad mix entry {part!r}: use OP=INT with OP one of {list(WEIGHTS)}")
        weights[op] = int(weight)
    if not any(weights.values()):
        raise ValueError(f"mix {text!r} gives every operation weight 0")
    return weights


@dataclass
class Recorder:
    """Latencies per route and errors, shared by every client (one event loop, no lock)."""

    latencies_s: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_routes: Counter[str] = field(default_factory=Counter)
    predictions: int = 0
    keys: itertools.count[int] = field(default_factory=itertools.count)
    uploaded: list[str] = field(default_factory=list)  # ids of ONNX models stored so far

    async def send(self, route: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        """Time one request; record its latency, or its error status / transport error."""
        started = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.errors[f"transport:{type(exc).__name__}"] += 1
            self.error_routes[route] += 1
            return None
        self.latencies_s[route].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.errors[str(response.status_code)] += 1
            self.error_routes[route] += 1
            return None
        return response


def measurement_body(model_id: str, device: str, key: str, latency_ms: float) -> dict[str, Any]:
    """A wire-format measurement (as an agent uploads it)."""
    return {
        "model_id": model_id,
        "device": device,
        "idempotency_key": key,
        "measurement_kind": "simulated",
        "latency_ms": {
            "median": latency_ms,
            "mean": latency_ms,
            "std": 0.01 * latency_ms,
            "p10": 0.99 * latency_ms,
            "p90": 1.01 * latency_ms,
            "n_runs": 50,
            "warmup_runs": 10,
        },
        "environment": {
            "backend": "load-bench",
            "runtime": "none",
            "runtime_version": "0",
            "threads": 1,
            "cpu": "load-bench",
            "agent_version": "load-bench",
        },
    }


class Client:
    """One simulated user of the API (client and agent roles) with its own connection."""

    def __init__(self, http: httpx.AsyncClient, traffic: Traffic, rec: Recorder, seed: int):
        self.http, self.traffic, self.rec = http, traffic, rec
        self.rng = random.Random(seed)
        self.client_auth = {"Authorization": f"Bearer {traffic.client_token}"}

    async def run(self, deadline: float) -> None:
        """Send operations until ``deadline`` (``time.monotonic``)."""
        ops = [op for op, weight in self.traffic.weights.items() if weight > 0]
        weights = [self.traffic.weights[op] for op in ops]
        for op in ops:  # every operation once, so even a short run covers every route
            await getattr(self, op)()
        while time.monotonic() < deadline:
            op = self.rng.choices(ops, weights)[0]
            await getattr(self, op)()

    async def _predict(self, route: str, ids: list[str]) -> None:
        body = {"device": self.traffic.predict_device, "model_ids": ids}
        post = self.http.post(f"{API}/predictions", json=body, headers=self.client_auth)
        if await self.rec.send(route, post) is not None:
            self.rec.predictions += len(ids)

    async def predict_single(self) -> None:
        """One model, one device."""
        await self._predict(
            "POST /predictions (1 model)", [self.rng.choice(self.traffic.model_ids)]
        )

    async def predict_batch(self) -> None:
        """``batch_size`` random models on one device."""
        ids = self.rng.sample(self.traffic.model_ids, self.traffic.batch_size)
        await self._predict(f"POST /predictions ({len(ids)} models)", ids)

    async def upload_onnx(self) -> None:
        """A raw ONNX body (201 the first time a file is seen, 200 afterwards)."""
        headers = {**self.client_auth, "Content-Type": "application/octet-stream"}
        data = self.rng.choice(self.traffic.onnx_files)
        post = self.http.post(f"{API}/models", content=data, headers=headers)
        response = await self.rec.send("POST /models (ONNX)", post)
        if response is not None and response.json()["id"] not in self.rec.uploaded:
            self.rec.uploaded.append(response.json()["id"])

    def _agent(self) -> tuple[str, dict[str, str]]:
        device = self.rng.choice(list(self.traffic.agent_tokens))
        return device, {"Authorization": f"Bearer {self.traffic.agent_tokens[device]}"}

    async def job_cycle(self) -> None:
        """Enqueue a job, then lease one, download its ONNX, heartbeat and complete it."""
        if not self.rec.uploaded:  # jobs are for uploaded models (agents download the ONNX)
            await self.upload_onnx()
            if not self.rec.uploaded:
                return
        device, agent = self._agent()
        enqueue = {"device": device, "model_ids": [self.rng.choice(self.rec.uploaded)]}
        post = self.http.post(f"{API}/jobs", json=enqueue, headers=self.client_auth)
        await self.rec.send("POST /jobs", post)
        lease = self.http.post(f"{API}/jobs/lease", json={"device": device}, headers=agent)
        leased = await self.rec.send("POST /jobs/lease", lease)
        jobs = leased.json()["jobs"] if leased is not None else []
        for job in jobs:
            onnx = self.http.get(f"{API}/models/{job['model_id']}/onnx", headers=agent)
            await self.rec.send("GET /models/{id}/onnx", onnx)
            url = f"{API}/jobs/{job['id']}"
            beat = self.http.post(f"{url}/heartbeat", json={}, headers=agent)
            await self.rec.send("POST /jobs/{id}/heartbeat", beat)
            key = f"load-job-{job['id']}-{next(self.rec.keys)}"
            body = measurement_body(job["model_id"], device, key, self.rng.uniform(1, 10))
            done = self.http.post(f"{url}/complete", json=body, headers=agent)
            await self.rec.send("POST /jobs/{id}/complete", done)

    async def upload_measurement(self) -> None:
        """A measurement outside a job (fresh idempotency key)."""
        device, agent = self._agent()
        key = f"load-upload-{next(self.rec.keys)}"
        model_id = self.rng.choice(self.traffic.model_ids)
        body = measurement_body(model_id, device, key, self.rng.uniform(1, 10))
        post = self.http.post(f"{API}/measurements", json=body, headers=agent)
        await self.rec.send("POST /measurements", post)


async def drive(urls: list[str], traffic: Traffic, clients: int, seconds: float) -> Recorder:
    """Run ``clients`` concurrent clients for ``seconds``, spread over the replicas' ``urls``."""
    rec = Recorder()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    https = [
        httpx.AsyncClient(base_url=urls[k % len(urls)], timeout=120, limits=limits)
        for k in range(clients)
    ]
    try:
        tasks = [Client(h, traffic, rec, seed=k).run(deadline) for k, h in enumerate(https)]
        await asyncio.gather(*tasks)
    finally:
        for h in https:
            await h.aclose()
    return rec
