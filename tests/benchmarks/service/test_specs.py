"""``perfloop bench specs``: a tiny run over HTTP returns figures for every target."""

from __future__ import annotations

import json

import pytest

from benchmarks.service.api import default_table
from benchmarks.service.specs import (
    TARGETS,
    WARMUP_ITEMS,
    SpecsBenchConfig,
    fresh_specs,
    run_specs_benchmark,
)


def test_fresh_specs_are_distinct_and_skip_the_excluded() -> None:
    first = fresh_specs("nasbench201", 40, seed=1, exclude=set())
    again = fresh_specs("nasbench201", 40, seed=1, exclude=set(first[:10]))
    assert len(set(first)) == 40
    assert not set(first[:10]) & set(again)


def test_fresh_specs_refuses_more_than_the_space_holds() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        fresh_specs("nasbench201", 16_000, seed=0, exclude=set())


@pytest.mark.slow
def test_tiny_run_scores_every_target_through_the_server() -> None:
    try:
        table = default_table()
    except FileNotFoundError:
        pytest.skip("shared NAS-Bench-201 latency table not found")
    cfg = SpecsBenchConfig(data=table, items=30, batch=10, clients=2, train_archs=25, model="quick")
    result = json.loads(json.dumps(run_specs_benchmark(cfg)))
    assert set(result["targets"]) == set(TARGETS) and WARMUP_ITEMS > 0
    for figures in result["targets"].values():
        assert figures["items"] == 30
        assert figures["wall_s"] > 0 and figures["items_per_s"] > 0
        assert figures["server_cpu_s"] > 0
    assert result["clients"] == 2 and result["model"] == "quick"


def test_cli_lists_the_command_and_names_a_bad_target() -> None:
    from typer.testing import CliRunner

    from perfloop.cli import app

    runner = CliRunner()
    assert "specs" in runner.invoke(app, ["bench", "--help"]).output
    result = runner.invoke(app, ["bench", "specs", "--targets", "fbnet,cifar"])
    assert result.exit_code == 2 and "cifar" in result.output
