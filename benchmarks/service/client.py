"""A cheap closed-loop HTTP load generator for ``perfloop bench api`` (run in its own process).

The single-model figure of ``bench api`` measures the server, but on a small machine the
clients share its cores: 16 threads each driving an ``httpx.Client`` cost about as much CPU per
request as the service itself. This client is one asyncio loop in a separate process; each
simulated client is one keep-alive HTTP/1.1 connection sending its requests one after the
other (closed loop: a client sends the next request when the previous answer has arrived).
Requests are pre-encoded bytes and responses are read by ``Content-Length`` only, so the
client spends a few hundred microseconds of CPU per request and reports that CPU time.

Usage (what :func:`run_clients` does): ``python -m benchmarks.service.client`` with a JSON job on
stdin, the JSON result on stdout.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class ClientJob:
    """What the clients send: ``bodies[k]`` is the list of JSON bodies client ``k`` posts."""

    url: str
    path: str
    token: str
    bodies: list[list[Any]]
    warmup: int = 0


def _request(host: str, path: str, token: str, body: Any) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request and read its whole response; returns the status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
    await reader.readexactly(length)
    return status


async def _client(
    host: str, port: int, requests: list[bytes], warmup: int, out: list[tuple[float, int]]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for i, request in enumerate(requests):
            started = time.perf_counter()
            status = await _exchange(reader, writer, request)
            if i >= warmup:
                out.append((time.perf_counter() - started, status))
    finally:
        writer.close()


async def _run(job: ClientJob) -> dict[str, Any]:
    parts = urlsplit(job.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    encoded = [[_request(host, job.path, job.token, b) for b in mine] for mine in job.bodies]
    out: list[tuple[float, int]] = []
    cpu_started, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_client(host, port, reqs, job.warmup, out) for reqs in encoded))
    wall_s = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies_s": [lat for lat, _ in out],
        "statuses": sorted({status for _, status in out}),
        "errors": sum(1 for _, status in out if status != 200),
        "wall_s": wall_s,
        "client_cpu_s": time.process_time() - cpu_started,
        "client_max_rss_kb": usage.ru_maxrss,
    }


def run_clients(job: ClientJob, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run ``job`` in a separate Python process and return its result.

    Returns:
        ``latencies_s`` (measured requests, warm-up excluded), ``statuses``, ``errors``,
        ``wall_s`` (all requests, warm-up included), ``client_cpu_s`` (the client process,
        encoding included).

    Raises:
        RuntimeError: the client process failed.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.service.client"],
        input=json.dumps(asdict(job)),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench client failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main() -> None:
    """Read a :class:`ClientJob` as JSON on stdin, write the result as JSON on stdout."""
    job = ClientJob(**json.loads(sys.stdin.read()))
    sys.stdout.write(json.dumps(asyncio.run(_run(job))))


if __name__ == "__main__":
    main()
