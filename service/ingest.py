"""Model ingestion: ONNX bytes -> graph IR -> blob store + models row (deduplicated)."""

from __future__ import annotations

from typing import Any

from predictor.api import GraphIR, graph_from_onnx_flagged
from service.blobstore import sha256_hex
from service.core.errors import Unprocessable
from service.crud import models as model_crud
from service.models import Model
from service.state import AppState


def onnx_to_ir(data: bytes, max_bytes: int) -> GraphIR:
    """Convert ONNX bytes to the graph IR.

    Raises:
        predictor.errors.ModelLoadError: the bytes are not a usable ONNX model.
    """
    return onnx_to_ir_flagged(data, max_bytes)[0]


def onnx_to_ir_flagged(data: bytes, max_bytes: int) -> tuple[GraphIR, bool]:
    """The graph IR of ONNX bytes and whether the model is graph-only (weights left out).

    Raises:
        predictor.errors.ModelLoadError: the bytes are not a usable ONNX model.
    """
    return graph_from_onnx_flagged(data, max_bytes=max_bytes)


#: Largest value of each graph counter stored in the models table (BIGINT; num_nodes INTEGER).
_COUNTER_MAX = {
    "macs": 2**63 - 1,
    "flops": 2**63 - 1,
    "params": 2**63 - 1,
    "model_bytes": 2**63 - 1,
    "peak_activation_bytes": 2**63 - 1,
    "num_nodes": 2**31 - 1,
}


def check_storable(graph: GraphIR) -> None:
    """Refuse a graph whose counters do not fit the database (e.g. 10^21 MACs declared).

    Raises:
        Unprocessable: a counter outside its column's range (422 naming the counter).
    """
    for name, limit in _COUNTER_MAX.items():
        value = getattr(graph, name)
        if not 0 <= value <= limit:
            raise Unprocessable(
                f"the model's {name} ({value}) is outside 0..{limit}; its declared shapes "
                "are not those of a network this service can predict",
                field="model",
                code="model_out_of_range",
            )


def ingest_onnx(
    state: AppState, data: bytes, *, space: str | None = None, spec: Any = None
) -> tuple[Model, bool]:
    """Store an ONNX model once; returns (row, created).

    The IR conversion runs outside any transaction; an already stored model costs one lookup.

    Raises:
        predictor.errors.ModelLoadError: the bytes are not a usable ONNX model.
        Unprocessable: the model's counters do not fit the database.
    """
    digest = sha256_hex(data)
    with state.db.session() as session:
        existing = model_crud.find(session, digest)
    if existing is not None:
        return existing, False
    graph, graph_only = onnx_to_ir_flagged(data, state.settings.max_model_bytes)
    check_storable(graph)
    state.blobs.put(data)
    row = model_crud.new_row(
        digest, len(data), graph, space=space, spec=spec, graph_only=graph_only
    )
    with state.db.session(write=True) as session:
        model, created = model_crud.insert(session, row)
    state.graphs.remember(digest, graph)
    return model, created
