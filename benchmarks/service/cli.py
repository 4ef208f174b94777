"""``perfloop bench api``, ``bench load`` and ``bench specs``: the service benchmarks."""

from __future__ import annotations

import typer


def bench_api(
    data: str | None = typer.Option(None, help="NAS-Bench-201 latency table (default: shared)."),
    column: str = typer.Option("gold_6240", help="Device column whose latencies train on."),
    models: int = typer.Option(1000, help="Models per batch prediction request."),
    clients: int = typer.Option(16, help="Concurrent single-model clients."),
    requests: int = typer.Option(50, help="Requests per concurrent client."),
    uploads: int = typer.Option(8, help="Exported NB201 ONNX files to upload."),
    workers: int = typer.Option(1, min=1, help="uvicorn worker processes of the server."),
    json_out: str | None = typer.Option(None, "--json", help="Write the figures here."),
) -> None:
    """Service HTTP benchmark: batch predictions/s, single-model p50/p99, upload throughput."""
    import json
    from pathlib import Path

    from benchmarks.service.api import BenchConfig, default_table, run_benchmark

    table = Path(data) if data else default_table()
    cfg = BenchConfig(
        data=table,
        device_column=column,
        models=models,
        clients=clients,
        requests_per_client=requests,
        uploads=uploads,
        workers=workers,
    )
    result = run_benchmark(cfg)
    text = json.dumps(result, indent=2)
    if json_out:
        Path(json_out).write_text(text + "\n")
    typer.echo(text)


def bench_load(
    database_url: str | None = typer.Option(
        None, help="An EMPTY database to run on (default: SQLite in a temporary data dir)."
    ),
    clients: int = typer.Option(50, help="Concurrent HTTP clients."),
    seconds: float = typer.Option(60.0, help="How long the clients send requests."),
    replicas: int = typer.Option(1, help="uvicorn processes started (each on its own port)."),
    workers: int = typer.Option(1, help="uvicorn workers per replica."),
    models: int = typer.Option(1000, help="Stored NB201 models the predictions draw from."),
    train_archs: int = typer.Option(300, help="Measured NB201 latencies the predictor trains on."),
    onnx_files: int = typer.Option(12, help="Distinct exported ONNX files the clients upload."),
    mix: str | None = typer.Option(
        None, help="Operation weights, e.g. predict_single=1 (default: the standard mix)."
    ),
    data: str | None = typer.Option(None, help="NAS-Bench-201 latency table (default: shared)."),
    json_out: str | None = typer.Option(None, "--json", help="Write the figures here."),
) -> None:
    """Load benchmark: mixed predictions, uploads, job and measurement traffic; p50/p99, errors."""
    import json
    from pathlib import Path

    from benchmarks.service.api import default_table
    from benchmarks.service.load import LoadConfig, run_load
    from benchmarks.service.load_traffic import WEIGHTS, parse_mix

    try:
        weights = parse_mix(mix) if mix else dict(WEIGHTS)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mix") from exc

    cfg = LoadConfig(
        data=Path(data) if data else default_table(),
        database_url=database_url,
        clients=clients,
        seconds=seconds,
        replicas=replicas,
        workers=workers,
        models=models,
        train_archs=train_archs,
        onnx_files=onnx_files,
        mix=weights,
    )
    text = json.dumps(run_load(cfg), indent=2)
    if json_out:
        Path(json_out).write_text(text + "\n")
    typer.echo(text)


def register(bench: typer.Typer) -> None:
    """Add the service benchmarks to the ``bench`` group."""
    from benchmarks.service.specs_cli import bench_specs

    bench.command("api")(bench_api)
    bench.command("load")(bench_load)
    bench.command("specs")(bench_specs)
