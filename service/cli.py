"""``perfloop serve``, ``worker``, ``db upgrade``, ``token create``, ``predictors add``."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
predictors_app = typer.Typer(help="Predictor versions known to the service.", no_args_is_help=True)


def _migrate() -> str:
    from service.migrate import upgrade_configured_database

    return upgrade_configured_database()


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

    from service.caches import WORKER_ENV_DEFAULTS

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


def register(app: typer.Typer) -> None:
    """Add the service commands to the root CLI."""
    from service.worker_cli import worker_command

    app.command("serve")(serve)
    app.command("worker")(worker_command)
    app.add_typer(db_app, name="db")
    app.add_typer(token_app, name="token")
    app.add_typer(predictors_app, name="predictors")
