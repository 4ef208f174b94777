"""Models: upload ONNX (raw body or multipart), read static features, download bytes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from service.api.deps import Anyone, Client, State
from service.api.responses import errors
from service.core.errors import NotFound, PayloadTooLarge, Unprocessable
from service.crud import models as model_crud
from service.ingest import ingest_onnx
from service.schemas import ModelOut

router = APIRouter(prefix="/models", tags=["models"])

MULTIPART_OVERHEAD_BYTES = 64 * 1024

_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"model is larger than the limit of {limit} bytes (PERFLOOP_MAX_MODEL_BYTES); "
        "predictions need only its shapes: upload a graph-only copy written by "
        "`perfloop strip MODEL -o MODEL.graph.onnx` (weights left out, a few KB to MB)",
        field="model",
        code="model_too_large",
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (header and actual count)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart_file(request: Request, body: bytes) -> bytes:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream()).parse()
    except MultiPartException as exc:  # e.g. no boundary in the Content-Type header
        raise Unprocessable(f"malformed multipart body: {exc.message}", field="file") from exc
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            message = "multipart upload needs a 'file' part with the ONNX bytes"
            raise Unprocessable(message, field="file")
        return await upload.read()
    finally:
        await form.close()


@router.post(
    "",
    response_model=ModelOut,
    status_code=201,
    openapi_extra=_UPLOAD_DOC,
    responses={200: {"model": ModelOut, "description": "Already stored."}},
)
async def upload_model(
    request: Request,
    state: State,
    _principal: Client,
    response: Response,
    space: str | None = Query(default=None, max_length=64, description="Search space, if known."),
    arch: str | None = Query(default=None, max_length=4096, description="Its spec, if known."),
) -> ModelOut:
    """Upload an ONNX model (201 new, 200 already stored)."""
    limit = state.settings.max_model_bytes
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    body = await _read_limited(request, limit + (MULTIPART_OVERHEAD_BYTES if multipart else 0))
    data = await _multipart_file(request, body) if multipart else body
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise Unprocessable("empty request body: send the ONNX bytes", field="model", code="empty")
    model, created = await run_in_threadpool(ingest_onnx, state, data, space=space, spec=arch)
    response.status_code = 201 if created else 200
    return ModelOut.model_validate(model)


@router.get("/{model_id}", response_model=ModelOut, responses=errors(404))
def get_model(model_id: str, state: State, _principal: Anyone) -> ModelOut:
    """Get a model's static features."""
    with state.db.session() as session:
        return ModelOut.model_validate(model_crud.get(session, model_id, field="id"))


@router.get(
    "/{model_id}/onnx",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **errors(404)},
)
def get_model_onnx(model_id: str, state: State, _principal: Anyone) -> Response:
    """Download a model's ONNX bytes."""
    with state.db.session() as session:
        model_crud.get(session, model_id, field="id")
    try:
        data = state.blobs.get(model_id)
    except FileNotFoundError as exc:
        raise NotFound(f"the ONNX bytes of model {model_id!r} are missing", field="id") from exc
    return Response(content=data, media_type="application/octet-stream")
