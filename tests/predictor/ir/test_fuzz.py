"""Fuzzing the importer: corrupt bytes give a ModelLoadError subclass or a GraphIR, never else."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictor.errors import ModelLoadError
from predictor.ir import GraphIR, ir_from_onnx

from .models import branch_model, conv_model

VALID = [conv_model().SerializeToString(), branch_model().SerializeToString()]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _convert(data: bytes) -> None:
    try:
        graph = ir_from_onnx(data)
    except ModelLoadError as exc:
        assert str(exc), "error messages must say what is wrong"
        return
    assert isinstance(graph, GraphIR)
    graph.summary()


@FUZZ
@given(
    base=st.sampled_from(VALID),
    flips=st.lists(st.tuples(st.integers(0), st.integers(0, 7)), min_size=1, max_size=8),
)
def test_bit_flips(base: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(base)
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    _convert(bytes(data))


@FUZZ
@given(base=st.sampled_from(VALID), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_truncation(base: bytes, cut: float) -> None:
    _convert(base[: int(len(base) * cut)])


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_garbage(data: bytes) -> None:
    _convert(data)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


_FIELD = st.one_of(
    st.tuples(st.integers(1, 30), st.just(0), st.integers(0, 2**64 - 1)).map(
        lambda t: _varint(t[0] << 3 | t[1]) + _varint(t[2])
    ),
    st.tuples(st.integers(1, 30), st.binary(max_size=64)).map(
        lambda t: _varint(t[0] << 3 | 2) + _varint(len(t[1])) + t[1]
    ),
    st.tuples(st.integers(1, 30), st.floats(allow_nan=True, width=32)).map(
        lambda t: _varint(t[0] << 3 | 5) + struct.pack("<f", t[1])
    ),
)


@FUZZ
@given(
    base=st.sampled_from(VALID),
    fields=st.lists(_FIELD, min_size=1, max_size=4),
    nested=st.booleans(),
)
def test_random_protobuf_fields(base: bytes, fields: list[bytes], nested: bool) -> None:
    """Append fields at top level or inside the graph (field 7) so protobuf merges them in."""
    extra = b"".join(fields)
    if nested:
        extra = _varint(7 << 3 | 2) + _varint(len(extra)) + extra
    _convert(base + extra)


@pytest.mark.parametrize("base", VALID, ids=["conv", "branch"])
def test_unmodified_models_convert(base: bytes) -> None:
    assert ir_from_onnx(base).num_nodes > 0
