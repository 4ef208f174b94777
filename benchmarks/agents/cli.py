"""``perfloop bench agent``: agent overhead, repeatability and models per hour."""

from __future__ import annotations

from pathlib import Path

import typer


def bench_agent_command(
    backend: str = typer.Option("ort-cpu", help="Backend for overhead/repeatability."),
    sessions: int = typer.Option(5, help="Sessions for the repeatability figure."),
    models: int = typer.Option(4, help="Search-space models to benchmark with."),
    backends: str = typer.Option(
        "ort-cpu,litert,litert-int8,tflm-m55,ethos-u55-128,zigzag",
        help="Comma-separated backends for the models-per-hour figure.",
    ),
    cpu_affinity: str = typer.Option(
        "",
        help="Comma-separated CPUs to pin each measuring process to, as the agent's "
        "PERFLOOP_AGENT_CPU_AFFINITY (default: no pinning).",
    ),
    output: Path | None = typer.Option(None, help="Write the JSON results here."),
) -> None:
    """Agent overhead vs a bare backend loop, ort-cpu repeatability, models per hour."""
    import json

    from benchmarks.agents.bench import run_bench

    chosen = tuple(b.strip() for b in backends.split(",") if b.strip())
    try:
        cpus = tuple(int(c) for c in cpu_affinity.split(",") if c.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"not a comma-separated list of CPU numbers: {cpu_affinity!r}",
            param_hint="--cpu-affinity",
        ) from exc
    results = run_bench(
        backend=backend, sessions=sessions, n_models=models, backends=chosen, cpu_affinity=cpus
    )
    text = json.dumps(results, indent=2)
    if output is not None:
        output.write_text(text)
    typer.echo(text)


def register(bench: typer.Typer) -> None:
    """Add ``bench agent`` to the ``bench`` group."""
    bench.command("agent")(bench_agent_command)
