"""``perfloop worker``: run the trainer/planner loop against the configured database."""

from __future__ import annotations

import typer


def worker_command(
    retrain_every: int = typer.Option(20, help="New measurements that trigger a training round."),
    poll: float = typer.Option(5.0, help="Seconds between steps."),
    full: bool = typer.Option(False, "--full", help="Full-size model (default: quick settings)."),
    once: bool = typer.Option(False, "--once", help="One step, then exit."),
    no_plan: bool = typer.Option(False, "--no-plan", help="Do not top up device queues."),
) -> None:
    """Retrain when measurements arrive (or on request), promote better versions, plan jobs."""
    import logging
    import threading

    from predictor.api import load_predictor
    from service.core.config import get_settings
    from service.migrate import upgrade_configured_database
    from service.state import AppState
    from service.training_round import RetrainConfig
    from service.worker import Worker, WorkerConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    upgrade_configured_database()
    state = AppState.build(get_settings(), load_predictor)
    config = WorkerConfig(
        retrain_every=retrain_every,
        poll_seconds=poll,
        retrain=RetrainConfig(quick=not full),
        plan=not no_plan,
    )
    worker = Worker(state, config)
    try:
        if once:
            report = worker.step()
            typer.echo(f"onboarded {report.onboarded} planned {report.planned}", err=True)
            if report.trained is not None:
                typer.echo(f"trained {report.trained.version} promoted={report.trained.promoted}")
            return
        worker.run(threading.Event())
    except KeyboardInterrupt:
        typer.echo("worker stopped", err=True)
    finally:
        state.db.dispose()
