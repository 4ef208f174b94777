"""Model upload (raw and multipart), dedup, limits, invalid ONNX, reads and download."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.core.config import Settings
from service.main import create_app
from tests.service.factories import tiny_onnx

OCTET = {"Content-Type": "application/octet-stream"}


def test_upload_raw_then_dedup(client: TestClient, client_auth: dict[str, str]) -> None:
    data = tiny_onnx(channels=4)
    r = client.post("/api/v1/models", content=data, headers={**client_auth, **OCTET})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == hashlib.sha256(data).hexdigest()
    assert body["num_nodes"] == 2
    assert body["macs"] == 4 * 8 * 8 * 3 * 9  # Cout * H * W * Cin * k*k
    assert body["params"] == 4 * 3 * 9
    assert body["unknown_ops"] == []
    again = client.post("/api/v1/models", content=data, headers={**client_auth, **OCTET})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    got = client.get(f"/api/v1/models/{body['id']}", headers=client_auth)
    assert got.status_code == 200 and got.json()["macs"] == body["macs"]
    onnx_bytes = client.get(f"/api/v1/models/{body['id']}/onnx", headers=client_auth)
    assert onnx_bytes.status_code == 200 and onnx_bytes.content == data
    assert onnx_bytes.headers["content-type"] == "application/octet-stream"


def test_upload_multipart_with_spec(client: TestClient, admin: dict[str, str]) -> None:
    data = tiny_onnx(channels=6)
    files = {"file": ("net.onnx", data, "application/octet-stream")}
    params = {"space": "tiny", "arch": "conv6"}
    r = client.post("/api/v1/models", files=files, params=params, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == hashlib.sha256(data).hexdigest()
    assert (r.json()["space"], r.json()["spec"]) == ("tiny", "conv6")


def test_multipart_without_file_part(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/models", files={"other": ("x", b"abc")}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"


NO_BOUNDARY = ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; x"]


@pytest.mark.parametrize("content_type", NO_BOUNDARY)
def test_multipart_without_boundary_422(
    client: TestClient, admin: dict[str, str], content_type: str
) -> None:
    """Found by schemathesis: a multipart Content-Type without a boundary was a 500."""
    headers = {**admin, "Content-Type": content_type}
    r = client.post("/api/v1/models", content=b"\x89PNG\r\n", headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "file"


def test_agent_downloads_but_cannot_upload(
    client: TestClient, client_auth: dict[str, str], agent: dict[str, str]
) -> None:
    data = tiny_onnx(channels=5)
    model_id = client.post("/api/v1/models", content=data, headers={**client_auth, **OCTET}).json()[
        "id"
    ]
    assert client.get(f"/api/v1/models/{model_id}/onnx", headers=agent).content == data
    r = client.post("/api/v1/models", content=data, headers={**agent, **OCTET})
    assert r.status_code == 403


def test_too_large_by_header_and_by_count(client: TestClient, admin: dict[str, str]) -> None:
    big = b"\0" * 1_000_001  # settings fixture: max_model_bytes = 1,000,000
    r = client.post("/api/v1/models", content=big, headers={**admin, **OCTET})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "model_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer, counted while reading
        for _ in range(11):
            yield b"\0" * 100_000

    r = client.post("/api/v1/models", content=chunks(), headers={**admin, **OCTET})
    assert r.status_code == 413


def test_invalid_onnx_422_with_code(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/models", content=b"not an onnx file", headers={**admin, **OCTET})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] in {"not_onnx", "truncated_model", "invalid_model", "invalid_graph"}
    assert error["message"]
    truncated = tiny_onnx()[:-40]
    r = client.post("/api/v1/models", content=truncated, headers={**admin, **OCTET})
    assert r.status_code == 422


def test_empty_body_422(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/models", content=b"", headers={**admin, **OCTET})
    assert r.status_code == 422


def test_unknown_model_404_names_id(client: TestClient, client_auth: dict[str, str]) -> None:
    missing = "ab" * 32
    for path in (f"/api/v1/models/{missing}", f"/api/v1/models/{missing}/onnx"):
        r = client.get(path, headers=client_auth)
        assert r.status_code == 404 and missing in r.json()["error"]["message"]


def test_upload_needs_token(client: TestClient) -> None:
    assert client.post("/api/v1/models", content=tiny_onnx(), headers=OCTET).status_code == 401


NB201_ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
)


@pytest.fixture(scope="module")
def nb201_onnx() -> bytes:
    from predictor.spaces.registry import get_space

    return get_space("nasbench201").to_onnx(NB201_ARCH)


def test_upload_exported_search_space_model(
    settings: Settings, client_auth: dict[str, str], nb201_onnx: bytes
) -> None:
    from predictor.spaces.registry import get_space

    roomy = settings.model_copy(update={"max_model_bytes": 64 * 2**20})
    with TestClient(create_app(roomy)) as client:
        r = client.post(
            "/api/v1/models",
            content=nb201_onnx,
            params={"space": "nasbench201", "arch": NB201_ARCH},
            headers={**client_auth, **OCTET},
        )
    assert r.status_code == 201, r.text
    graph = get_space("nasbench201").to_ir(NB201_ARCH)
    body = r.json()
    assert (body["macs"], body["params"], body["num_nodes"]) == (
        graph.macs,
        graph.params,
        graph.num_nodes,
    )
    assert body["peak_activation_bytes"] == graph.peak_activation_bytes


def test_over_the_limit_413_says_how_to_strip(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/models", content=b"\0" * 1_000_001, headers={**admin, **OCTET})
    assert r.status_code == 413
    assert "perfloop strip" in r.json()["error"]["message"]


def test_graph_only_upload_is_stored_and_marked(
    client: TestClient, client_auth: dict[str, str]
) -> None:
    from tests.predictor.ir.models import decoder_graph_only

    model = decoder_graph_only(32000, 2048, 20, 5632)  # 1.1e9 parameters, weights absent
    data = model.SerializeToString()
    r = client.post("/api/v1/models", content=data, headers={**client_auth, **OCTET})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["graph_only"] is True and body["size_bytes"] == len(data) < 1_000_000
    assert body["params"] == 2 * 32000 * 2048 + 20 * (4 * 2048 * 2048 + 3 * 2048 * 5632)
    self_contained = client.post(
        "/api/v1/models", content=tiny_onnx(channels=7), headers={**client_auth, **OCTET}
    )
    assert self_contained.json()["graph_only"] is False


def test_bad_graph_only_reference_is_a_named_422(
    client: TestClient, client_auth: dict[str, str]
) -> None:
    from tests.predictor.ir.models import decoder_graph_only

    model = decoder_graph_only(16, 8, 1, 8)
    model.graph.initializer[1].external_data.add(key="length", value="3")
    r = client.post(
        "/api/v1/models", content=model.SerializeToString(), headers={**client_auth, **OCTET}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "bad_graph_only"
    assert "'w0_0'" in r.json()["error"]["message"]
