"""``perfloop serve``, ``db upgrade``, ``token create`` (and ``bench api``, ``bench load``)."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
predictors_app = typer.Typer(help="Predictor versions known to the service.", no_args_is_help=True)


def _migrate() -> str:
    from service.core.config import get_settings
    from service.core.db import make_engine
    from service.migrate import current_revision, upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        return current_revision(engine) or "base"
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations up to head."""
    revision = _migrate()
    typer.echo(f"database at revision {revision}", err=True)


@token_app.command("create")
def token_create(
    scope: str = typer.Option(..., help="admin | client | agent"),
    device: str | None = typer.Option(None, help="Device an agent token is bound to."),
    label: str | None = typer.Option(None, help="Free-form note (who holds it)."),
) -> None:
    """Create a token and print it (stdout carries the token and nothing else)."""
    from service.core.config import get_settings
    from service.core.db import Database
    from service.crud.tokens import create_token

    if scope not in ("admin", "client", "agent"):
        raise typer.BadParameter(f"{scope!r}; choose admin, client or agent", param_hint="--scope")
    _migrate()
    db = Database(get_settings().resolved_database_url)
    try:
        with db.session(write=True) as session:
            raw = create_token(session, scope, device, label)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--device") from exc
    finally:
        db.dispose()
    typer.echo(raw)


@predictors_app.command("add")
def predictors_add(
    path: str = typer.Argument(..., help="Artifact directory written by `perfloop train`."),
    version: str | None = typer.Option(None, help="Version string (default: the artifact's)."),
    activate: bool = typer.Option(False, help="Make it the active version."),
) -> None:
    """Register an existing predictor artifact (and optionally activate it)."""
    from pathlib import Path

    from predictor.api import load_predictor
    from service.core.config import get_settings
    from service.core.db import Database
    from service.crud import predictors as predictor_crud

    artifact = Path(path).resolve()
    name = version or load_predictor(artifact).version
    _migrate()
    db = Database(get_settings().resolved_database_url)
    try:
        with db.session(write=True) as session:
            predictor_crud.register(session, name, str(artifact), {})
            if activate:
                predictor_crud.activate(session, name)
    finally:
        db.dispose()
    typer.echo(name)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Migrate the database and serve the API with uvicorn."""
    import os

    import uvicorn

    from service.serving import WORKER_ENV_DEFAULTS

    for name, value in WORKER_ENV_DEFAULTS.items():  # before anything imports torch
        os.environ.setdefault(name, value)

    from service.core.config import get_settings
    from service.core.db import Database
    from service.crud.tokens import has_admin
    from service.shipped import install_shipped

    revision = _migrate()
    settings = get_settings()
    typer.echo(f"data dir {settings.data_dir.resolve()}, database at {revision}", err=True)
    db = Database(settings.resolved_database_url)
    try:
        shipped = install_shipped(db, settings)
        if shipped is not None:
            typer.echo(f"fresh data dir: the shipped predictor {shipped} is active", err=True)
        with db.session() as session:
            if not has_admin(session):
                typer.echo(
                    "no admin token yet: create one with `perfloop token create --scope admin`",
                    err=True,
                )
    finally:
        db.dispose()
    uvicorn.run("service.main:create_app", factory=True, host=host, port=port, workers=workers)


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

    from service.bench_api import BenchConfig, default_table, run_benchmark

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

    from service.bench_api import default_table
    from service.bench_load import LoadConfig, run_load
    from service.bench_load_traffic import WEIGHTS, parse_mix

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


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the service commands to the root CLI."""
    from service.bench_specs_cli import bench_specs
    from service.worker_cli import worker_command

    app.command("serve")(serve)
    app.command("worker")(worker_command)
    app.add_typer(db_app, name="db")
    app.add_typer(token_app, name="token")
    app.add_typer(predictors_app, name="predictors")
    bench.command("api")(bench_api)
    bench.command("load")(bench_load)
    bench.command("specs")(bench_specs)
