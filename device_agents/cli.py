"""``perfloop agent``: run a device agent."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import typer


def default_device_name(backend: str) -> str:
    """Return ``<backend>-<hostname>`` made valid as a device name."""
    raw = f"{backend}-{socket.gethostname()}".lower()
    name = re.sub(r"[^a-z0-9_.-]", "-", raw).strip("-_.")
    return name[:64] or backend


def agent_command(
    server: str | None = typer.Option(None, help="Service URL (env PERFLOOP_AGENT_SERVER)."),
    token: str | None = typer.Option(None, help="Agent token (env PERFLOOP_AGENT_TOKEN)."),
    backend: str | None = typer.Option(None, help="Backend name; see --list-backends."),
    device: str | None = typer.Option(None, help="Device name (default <backend>-<hostname>)."),
    once: bool = typer.Option(False, "--once", help="Process the queue, flush the spool, exit."),
    list_backends: bool = typer.Option(False, "--list-backends", help="List backends and exit."),
    spool_dir: Path | None = typer.Option(None, help="Spool directory (env ..._SPOOL_DIR)."),
    no_isolate: bool = typer.Option(False, "--no-isolate", help="Profile in-process."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run a device agent: lease measurement jobs, measure them on a backend, upload results."""
    from device_agents.backends.registry import BACKENDS

    if list_backends:
        for name in sorted(BACKENDS):
            typer.echo(f"{name:16s} {BACKENDS[name].summary}")
        return
    if backend is None:
        raise typer.BadParameter(
            "--backend is required (see --list-backends)", param_hint="--backend"
        )
    if backend not in BACKENDS and ":" not in backend:
        valid = ", ".join(sorted(BACKENDS))
        raise typer.BadParameter(
            f"unknown backend {backend!r}; valid: {valid}", param_hint="--backend"
        )
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    from device_agents.runtime import build_agent

    agent = build_agent(
        backend=backend,
        device=device or default_device_name(backend),
        server=server,
        token=token,
        spool_dir=spool_dir,
        isolate=False if no_isolate else None,
    )
    from device_agents.agent import install_signal_handlers

    install_signal_handlers(agent)
    from device_agents.client import ApiError

    try:
        remaining = agent.run(once=once)
    except ApiError as exc:  # a configuration problem: bad token, device bound to another token
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    finally:
        agent.client.close()
    typer.echo(f"completed={agent.completed} failed={agent.failed} spooled={remaining}")
    if remaining:
        raise typer.Exit(code=3)


def register(app: typer.Typer) -> None:
    """Add the agent commands to the root CLI."""
    app.command("agent")(agent_command)
