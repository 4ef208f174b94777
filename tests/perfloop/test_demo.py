"""The demo's result table."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from perfloop.demo import (
    MIN_HELD_OUT_FOR_RANKS,
    DemoResult,
    render,
    serve_command,
    should_serve,
)


def _text(result: DemoResult) -> str:
    console = Console(width=200, record=True)
    console.print(render(result))
    return console.export_text()


def test_rank_metrics_need_enough_held_out_models() -> None:
    scores = {"mape": 0.05, "spearman": 1.0, "acc_10": 1.0}
    result = DemoResult(
        url="http://x",
        client_token="t",
        measurements={"few": 6, "many": 200},
        final={
            "few": {**scores, "count": MIN_HELD_OUT_FOR_RANKS - 1},
            "many": {**scores, "spearman": 0.87, "acc_10": 0.42, "count": 40},
        },
    )
    rows = {
        line.split()[1]: line
        for line in _text(result).splitlines()
        if "few" in line or "many" in line
    }
    assert "0.87" in rows["many"] and "0.42" in rows["many"]
    assert "1.00" not in rows["few"] and "5.0" in rows["few"]


def test_demo_serves_only_from_a_terminal_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # as under pytest or a pipe: no TTY
    assert should_serve(None) is False
    assert should_serve(True) is True and should_serve(False) is False


def test_serve_command_names_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "my data"
    assert serve_command(data) == f"PERFLOOP_DATA_DIR='{data.resolve()}' perfloop serve --port 8000"
