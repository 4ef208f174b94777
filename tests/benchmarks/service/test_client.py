"""The load generator of ``bench api``: keep-alive requests, warm-up excluded, errors counted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.service.client import ClientJob, run_clients


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    seen: list[tuple[str, str, dict[str, object]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers["Authorization"], body))
        status = 404 if body.get("missing") else 200
        data = json.dumps({"echo": body}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    _Handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_request_is_sent_and_warmup_is_not_timed(server_url: str) -> None:
    bodies = [[{"k": k, "j": j} for j in range(5)] for k in range(3)]
    result = run_clients(ClientJob(server_url, "/api/v1/predictions", "tok", bodies, warmup=2))

    assert len(result["latencies_s"]) == 3 * 3  # 5 per client, 2 of them warm-up
    assert all(lat > 0 for lat in result["latencies_s"])
    assert result["errors"] == 0 and result["statuses"] == [200]
    assert sorted((b["k"], b["j"]) for _, _, b in _Handler.seen) == [
        (k, j) for k in range(3) for j in range(5)
    ]
    assert {(path, auth) for path, auth, _ in _Handler.seen} == {
        ("/api/v1/predictions", "Bearer tok")
    }
    assert result["client_cpu_s"] > 0 and result["wall_s"] > 0


def test_non_200_answers_are_counted_as_errors(server_url: str) -> None:
    bodies = [[{"missing": True}, {"ok": 1}]]
    result = run_clients(ClientJob(server_url, "/p", "tok", bodies))

    assert result["errors"] == 1
    assert result["statuses"] == [200, 404]
