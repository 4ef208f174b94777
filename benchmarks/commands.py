"""The ``perfloop bench`` commands: every benchmark's registration in one place.

:mod:`perfloop.cli` imports this module only when the ``benchmarks`` package is present (a
checkout with the ``bench`` extra); product code never imports it.
"""

from __future__ import annotations

import typer


def register(bench: typer.Typer) -> None:
    """Add every benchmark command to the ``bench`` group."""
    from benchmarks.active.cli import bench_active
    from benchmarks.agents.cli import register as register_agents
    from benchmarks.families_cli import bench_families
    from benchmarks.novelty_cli import register as register_novelty
    from benchmarks.predictor.cli import register_bench as register_predictor
    from benchmarks.service.cli import register as register_service

    register_predictor(bench)
    bench.command("active")(bench_active)
    register_service(bench)
    register_agents(bench)
    register_novelty(bench)
    bench.command("families")(bench_families)
