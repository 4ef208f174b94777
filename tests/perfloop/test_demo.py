"""The demo's result table."""

from __future__ import annotations

from rich.console import Console

from perfloop.demo import MIN_HELD_OUT_FOR_RANKS, DemoResult, render


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
