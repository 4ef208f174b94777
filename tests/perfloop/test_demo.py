"""The demo's result table."""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import pytest
from rich.console import Console

from perfloop.demo import (
    MIN_HELD_OUT_FOR_RANKS,
    SETTLE_PRIORITY,
    DemoConfig,
    DemoResult,
    render,
    serve_command,
    settle_live_error,
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


class _FakeClient:
    """Answers what settle_live_error asks; dev2 gets live error once its job is first."""

    def __init__(self) -> None:
        self.raised: list[tuple[str, list[str], int]] = []

    def error_report(self) -> list[dict[str, object]]:
        rows = [{"device": "dev1", "metric": "latency_ms", "count": 3}]
        if self.raised:
            rows.append({"device": "dev2", "metric": "latency_ms", "count": 1})
        return rows

    def predict_specs(self, device: str, specs: object, **kwargs: object) -> object:
        assert device == "dev2" and kwargs["threshold"] == pytest.approx(1e-9)
        prediction = type("P", (), {"job_id": 7})()
        return type("Out", (), {"predictions": [prediction]})()

    def job(self, job_id: int) -> object:
        return type("Job", (), {"device": "dev2", "model_id": "m7"})()

    def measure(self, device: str, model_ids: list[str], priority: int) -> list[int]:
        self.raised.append((device, model_ids, priority))
        return [7]


def test_settling_measures_the_missing_devices_first(tmp_path: Path) -> None:
    client = _FakeClient()
    cfg = DemoConfig(data_dir=tmp_path, spaces=("nasbench201",), doubt_specs=1, settle_s=30)
    checked = settle_live_error(client, ["dev1", "dev2"], cfg, random.Random(0))  # type: ignore[arg-type]
    assert checked == {"dev1": 3, "dev2": 1}
    assert client.raised == [("dev2", ["m7"], SETTLE_PRIORITY)]
