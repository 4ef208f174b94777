"""A canonical fingerprint of a network: equal for equal graph IRs, whatever their names.

The same network reaches the service as a search-space spec (``space.to_ir``), as the ONNX
exported from that spec, or as another upload of the same network (other bytes, other graph
and node names). :class:`~predictor.ir.schema.GraphIR` equality already ignores names; the
fingerprint hashes exactly what equality compares, so ``a == b`` implies
``fingerprint(a) == fingerprint(b)`` and the service can pair a prediction with a later
measurement of the same network by a stored string.
"""

from __future__ import annotations

import hashlib
from typing import cast

from pydantic import TypeAdapter
from pydantic.main import IncEx

from predictor.ir.schema import GraphIR

_ADAPTER = TypeAdapter(GraphIR)
#: Fields equality ignores, left out of the fingerprint: the graph's and the nodes' names.
_NAMES = cast(IncEx, {"name": True, "nodes": {"__all__": {"name": True}}})


def canonical_json(graph: GraphIR) -> bytes:
    """The graph's JSON without names (fields in declaration order, attributes sorted)."""
    return _ADAPTER.dump_json(graph, exclude=_NAMES)


def graph_fingerprint(graph: GraphIR) -> str:
    """The sha256 (64 hex digits) of :func:`canonical_json`: about 0.5 ms for an NB201 cell."""
    return hashlib.sha256(canonical_json(graph)).hexdigest()
