"""The ``perfloop bench specs`` command (light: the benchmark module loads when it runs)."""

from __future__ import annotations

from pathlib import Path

import typer


def bench_specs(
    targets: str = typer.Option(
        "fbnet,nasbench201,onnx", help="Comma-separated: fbnet,nasbench201,onnx,llm."
    ),
    items: int = typer.Option(10_000, help="Never-seen items timed per target."),
    batch: int = typer.Option(1000, help="Items per request."),
    clients: int = typer.Option(1, help="Client threads sending requests."),
    workers: int = typer.Option(1, help="uvicorn worker processes."),
    model: str = typer.Option("full", help="Predictor size: full (default settings) or quick."),
    data: str | None = typer.Option(None, help="NAS-Bench-201 latency table (default: shared)."),
    json_out: str | None = typer.Option(None, "--json", help="Write the figures here."),
) -> None:
    """Scoring speed of never-seen specs and stored models through the HTTP API."""
    import json

    from benchmarks.service.api import default_table
    from benchmarks.service.specs import ALL_TARGETS, SpecsBenchConfig, run_specs_benchmark

    chosen = tuple(t.strip() for t in targets.split(",") if t.strip())
    bad = [t for t in chosen if t not in ALL_TARGETS]
    if model not in ("full", "quick"):
        raise typer.BadParameter(
            f"unknown model {model!r}; choose full or quick", param_hint="--model"
        )
    if bad or not chosen:
        raise typer.BadParameter(
            f"unknown targets {bad}; choose from {ALL_TARGETS}", param_hint="--targets"
        )
    cfg = SpecsBenchConfig(
        data=Path(data) if data else default_table(),
        targets=chosen,  # type: ignore[arg-type]
        items=items,
        batch=batch,
        clients=clients,
        workers=workers,
        model=model,  # type: ignore[arg-type]
    )
    text = json.dumps(run_specs_benchmark(cfg), indent=2)
    if json_out:
        Path(json_out).write_text(text + "\n")
    typer.echo(text)
