from __future__ import annotations

import random

import pytest
from rich.console import Console

import predictor.spaces
from perfloop.spaces_demo import DEMO_MAX_PARAMS, demo_rows, run_demo


def test_demo_rows_export_and_import() -> None:
    rows = demo_rows("kws", 2, random.Random(0))
    assert len(rows) == 2
    for row in rows:
        assert row.space == "kws"
        assert row.macs > 0 and 0 < row.params <= DEMO_MAX_PARAMS
        assert row.model_bytes == 4 * row.params  # float32 weights
        assert row.onnx_bytes > row.model_bytes
        assert row.matches_spec_ir


def test_run_demo_prints_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(predictor.spaces, "SPACES", ("kws", "rnn"))
    console = Console(record=True, width=160)
    rows = run_demo(per_space=1, seed=3, console=console)
    text = console.export_text()
    assert [r.space for r in rows] == ["kws", "rnn"]
    assert "perfloop demo" in text and "kws" in text and "rnn" in text
    assert "2/2 imported IRs equal the IR built straight from the spec" in text
