"""``perfloop demo``: the whole loop on this machine (measure -> train -> predict -> measure the
doubtful), on the embedded default (SQLite in a data dir) with local agents.
"""

from __future__ import annotations

import logging
import random
import shlex
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import mean

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, select

from perfloop.client import Client, ServiceError
from perfloop.stack import Stack, start_agent, start_service
from predictor.api import Sample
from service.crud import predictors as predictor_crud
from service.models import Device, Measurement
from service.planner import PlannerConfig
from service.training_round import RetrainConfig, load_samples, score_per_device, time_split
from service.worker import Worker, WorkerConfig

logger = logging.getLogger(__name__)

#: Context rows of the "few measurements" comparison (about what onboarding gives a device).
FEW_CONTEXT = 5
DEFAULT_BACKENDS = ("ort-cpu", "litert", "ethos-u", "tflm-m7", "zigzag")  # as in perfloop.cli
Scores = dict[str, dict[str, float | int | None]]


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """What the demo runs and for how long."""

    data_dir: Path = Path("./perfloop-data")
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    spaces: tuple[str, ...] = ("nasbench201", "fbnet", "kws")
    budget_s: float = 420.0
    per_device: int = 40
    retrain_every: int = 25
    min_device_samples: int = 15
    doubt_specs: int = 2
    threshold: float = 1.2
    seed: int = 0
    #: Every prediction the demo asks for is audited (measured at low priority), so each device
    #: shows live error; a deployment audits ``PERFLOOP_AUDIT_RATE`` (1 %) of its predictions.
    audit_rate: float = 1.0
    #: After the loop, how long to wait for the audited predictions' measurements.
    settle_s: float = 60.0


@dataclass
class DemoResult:
    """What the loop achieved."""

    url: str
    client_token: str
    measurements: dict[str, int] = field(default_factory=dict)
    final: Scores = field(default_factory=dict)
    first: Scores = field(default_factory=dict)
    latest: Scores = field(default_factory=dict)
    few_context: Scores = field(default_factory=dict)
    #: Measurements per device when the first version was trained, and that version's scores
    #: given only those as context (what was served back then).
    first_counts: dict[str, int] = field(default_factory=dict)
    early: Scores = field(default_factory=dict)
    versions: list[tuple[str, bool]] = field(default_factory=list)
    doubt_jobs: list[int] = field(default_factory=list)
    doubt_measured: int = 0
    #: Device -> latency predictions paired with a later measurement (GET /error-report).
    live_checked: dict[str, int] = field(default_factory=dict)
    data_dir: Path = Path()


def measurement_counts(stack: Stack) -> dict[str, int]:
    """Device -> measurements (every known device)."""
    with stack.state.db.session() as session:
        names = list(session.scalars(select(Device.name)))
        rows = session.execute(
            select(Measurement.device, func.count()).group_by(Measurement.device)
        ).all()
    counts = {n: 0 for n in names}
    counts.update({r[0]: int(r[1]) for r in rows})
    return counts


def measure_doubtful(
    client: Client, devices: list[str], cfg: DemoConfig, rng: random.Random
) -> list[int]:
    """Ask for predictions of fresh specs; the doubtful ones get measured. Returns the job ids."""
    from predictor.spaces.registry import get_space

    queued: list[int] = []
    for device in devices:
        spaces = [cfg.spaces[rng.randrange(len(cfg.spaces))] for _ in range(cfg.doubt_specs)]
        specs = [(s, get_space(s).sample(rng)) for s in spaces]
        try:
            out = client.predict_specs(
                device, specs, on_uncertain="measure", threshold=cfg.threshold
            )
        except ServiceError as exc:  # e.g. no metric head and no measurement yet on this device
            logger.info("predictions for %s: %s", device, exc)
            continue
        queued += [p.job_id for p in out.predictions if p.job_id is not None]
    return queued


def measured_doubts(client: Client, job_ids: list[int]) -> int:
    """How many of the doubtful predictions' jobs came back with a measured latency."""
    jobs = [client.job(j) for j in dict.fromkeys(job_ids)]
    return sum(
        j.status == "done"
        and ((j.measurement or {}).get("latency_ms") or {}).get("median") is not None
        for j in jobs
    )


def live_checked(client: Client) -> dict[str, int]:
    """Device -> logged latency predictions already paired with a later measurement."""
    counts: dict[str, int] = {}
    for row in client.error_report():
        if row["metric"] == "latency_ms":
            counts[row["device"]] = counts.get(row["device"], 0) + int(row["count"])
    return counts


#: Priority of the settling phase's jobs: ahead of the planner's (0) and audits (-10).
SETTLE_PRIORITY = 10


def has_active_predictor(stack: Stack) -> bool:
    """Whether a predictor version is active (the shipped one on a fresh data dir)."""
    with stack.state.db.session() as session:
        return predictor_crud.active(session) is not None


def settle_live_error(
    client: Client, devices: list[str], cfg: DemoConfig, rng: random.Random
) -> dict[str, int]:
    """On the devices without live error yet, predict fresh specs, measure them first in line,
    and wait up to ``cfg.settle_s`` for the measurements to pair with the predictions."""
    deadline = time.monotonic() + cfg.settle_s
    checked = live_checked(client)
    missing = [d for d in devices if not checked.get(d)]
    if missing:
        urgent = replace(cfg, threshold=1e-9)  # every prediction "doubtful": a job id comes back
        for job_id in measure_doubtful(client, missing, urgent, rng):
            job = client.job(job_id)
            client.measure(job.device, [job.model_id], priority=SETTLE_PRIORITY)
    while missing and time.monotonic() < deadline:
        time.sleep(2.0)
        checked = live_checked(client)
        missing = [d for d in devices if not checked.get(d)]
    return checked


def first_per_device(samples: list[Sample], n: int | dict[str, int]) -> list[Sample]:
    """The oldest ``n`` samples of each device (``n[device]`` when a dict)."""
    seen: dict[str, int] = {}
    out = []
    for s in samples:
        seen[s.device] = seen.get(s.device, 0) + 1
        if seen[s.device] <= (n if isinstance(n, int) else n.get(s.device, 0)):
            out.append(s)
    return out


def held_out_comparison(stack: Stack, result: DemoResult) -> None:
    """Score the active, the first and the latest version on the same newest held-out rows."""
    from predictor.api import load_predictor

    samples, kinds = load_samples(stack.state)
    split = RetrainConfig()
    train, held = time_split(samples, split.holdout_fraction, split.min_holdout)
    with stack.state.db.session() as session:
        active = predictor_crud.active(session)
        paths = {v.version: v.artifact_path for v in predictor_crud.list_versions(session)}

    def scores(version: str) -> Scores:
        return score_per_device(load_predictor(Path(paths[version])), train, held, kinds)

    if active is not None:
        result.final = scores(active.version)
        first_rows = first_per_device(train, FEW_CONTEXT)
        predictor = load_predictor(Path(active.artifact_path))
        result.few_context = score_per_device(predictor, first_rows, held, kinds)
    if len(result.versions) >= 2:
        result.first = scores(result.versions[0][0])
        result.latest = scores(result.versions[-1][0])
    if result.versions and result.first_counts:
        first = load_predictor(Path(paths[result.versions[0][0]]))
        early_rows = first_per_device(train, result.first_counts)
        result.early = score_per_device(first, early_rows, held, kinds)


def _worker(stack: Stack, cfg: DemoConfig) -> Worker:
    config = WorkerConfig(
        retrain_every=cfg.retrain_every,
        min_samples=8,
        poll_seconds=0,
        onboard_spaces=cfg.spaces,
        retrain=RetrainConfig(min_device_samples=cfg.min_device_samples),
        planner=PlannerConfig(spaces=cfg.spaces, min_queue=2, batch=3, pool_per_space=24),
    )
    return Worker(stack.state, config, seed=cfg.seed)


def serve_command(data_dir: Path) -> str:
    """The ``perfloop serve`` command that serves the dashboard of ``data_dir`` again."""
    return f"PERFLOOP_DATA_DIR={shlex.quote(str(data_dir.resolve()))} perfloop serve --port 8000"


def should_serve(serve: bool | None) -> bool:
    """Keep serving after the table: as asked, else only when run from a terminal."""
    return serve if serve is not None else sys.stdin.isatty()


def run_loop(cfg: DemoConfig, console: Console, keep_running: bool = False) -> DemoResult:
    """Start everything, run the loop until the budget or the per-device target, print the
    table (and keep serving until Ctrl-C when ``keep_running``), stop."""
    stack = start_service(cfg.data_dir, audit_rate=cfg.audit_rate)
    result = DemoResult(stack.url, stack.client_token, data_dir=cfg.data_dir)
    try:
        for backend in cfg.backends:
            start_agent(stack, backend, f"{backend}-local")
        _drive(stack, cfg, console, result)
        held_out_comparison(stack, result)
        result.measurements = measurement_counts(stack)
        print_result(console, result)
        if keep_running:
            console.print(
                f"serving the dashboard at {result.url}/dashboard until Ctrl-C "
                f"(log in with the client token above)"
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        stack.stop()
    return result


def _drive(stack: Stack, cfg: DemoConfig, console: Console, result: DemoResult) -> None:
    worker, client, rng = (
        _worker(stack, cfg),
        Client(stack.url, stack.client_token),
        random.Random(cfg.seed),
    )
    deadline = time.monotonic() + cfg.budget_s
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bars: dict[str, TaskID] = {}
        status = progress.add_task("predictor: none", total=None)
        while time.monotonic() < deadline:
            report = worker.step()
            if report.trained is not None:
                result.first_counts = result.first_counts or measurement_counts(stack)
                result.versions.append((report.trained.version, report.trained.promoted))
                # The active version answers (the shipped one until a trained one beats it).
                result.doubt_jobs += measure_doubtful(client, list(bars), cfg, rng)
                state = "promoted" if report.trained.promoted else "kept as candidate"
                progress.update(status, description=f"{report.trained.version[:18]} {state}")
            counts = measurement_counts(stack)
            for device, n in counts.items():
                if device not in bars:
                    bars[device] = progress.add_task(device, total=cfg.per_device)
                progress.update(bars[device], completed=min(n, cfg.per_device))
            if (
                counts
                and all(n >= cfg.per_device for n in counts.values())
                and len(counts) == len(cfg.backends)
            ):
                break
            time.sleep(1.0)
    if has_active_predictor(stack):  # else predictions answer 409
        devices = list(measurement_counts(stack))
        result.live_checked = settle_live_error(client, devices, cfg, rng)
    result.doubt_measured = measured_doubts(client, result.doubt_jobs)
    client.close()


def _fmt(value: float | int | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _pct(value: float | int | None) -> float | None:
    return None if value is None else 100.0 * float(value)


#: Below this many held-out models Spearman and acc_10 are not shown (on two models Spearman is
#: always +-1 and acc_10 is 0, 0.5 or 1).
MIN_HELD_OUT_FOR_RANKS = 5


def render(result: DemoResult) -> Table:
    """Per-device table: measurements and held-out accuracy of the active predictor."""
    table = Table(title="perfloop demo: active predictor on held-out measured models (latency)")
    names = ("device", "measured", "held out", "MAPE %", "Spearman", "acc_10", "MAPE % @5")
    for name in names:
        table.add_column(name, justify="left" if name == "device" else "right", no_wrap=True)
    for device, n in sorted(result.measurements.items()):
        s = result.final.get(device, {})
        f = result.few_context.get(device, {})
        ranks = (s.get("count") or 0) >= MIN_HELD_OUT_FOR_RANKS
        table.add_row(
            device,
            str(n),
            _fmt(s.get("count"), "{}"),
            _fmt(_pct(s.get("mape")), "{:.1f}"),
            _fmt(s.get("spearman") if ranks else None, "{:.2f}"),
            _fmt(s.get("acc_10") if ranks else None, "{:.2f}"),
            _fmt(_pct(f.get("mape")), "{:.1f}"),
        )
    return table


def mean_mape(scores: Scores) -> float | None:
    """Mean MAPE over devices (None when nothing was scored)."""
    values = [float(v) for s in scores.values() if (v := s.get("mape")) is not None]
    return mean(values) if values else None


def print_result(console: Console, result: DemoResult) -> None:
    """The table, the loop summary, the dashboard URL and a client token."""
    console.print(render(result))
    console.print(
        "MAPE % @5: the active predictor given only each device's first 5 measurements; "
        f"Spearman and acc_10 need {MIN_HELD_OUT_FOR_RANKS} held-out models (-: fewer)"
    )
    promoted = sum(p for _, p in result.versions)
    console.print(
        f"{len(result.versions)} versions trained, {promoted} promoted; "
        f"{len(result.doubt_jobs)} doubtful predictions sent to measurement, "
        f"{result.doubt_measured} measured so far"
    )
    early, final = mean_mape(result.early), mean_mape(result.final)
    if early is not None and final is not None:
        console.print(
            f"mean held-out MAPE as served: first version with the measurements it had "
            f"{100 * early:.1f} %, active version with all {100 * final:.1f} %"
        )
    first, latest = mean_mape(result.first), mean_mape(result.latest)
    if first is not None and latest is not None:
        console.print(
            f"mean held-out MAPE, same rows: first version {100 * first:.1f} %, "
            f"latest version {100 * latest:.1f} % (trained on more measurements)"
        )
    unchecked = sorted(d for d in result.measurements if not result.live_checked.get(d))
    checked = sum(result.live_checked.values())
    console.print(
        f"live error: {checked} served latency predictions paired with a later measurement"
        + (f"; none yet on {', '.join(unchecked)}" if unchecked else " on every device")
    )
    console.print(f"dashboard: {result.url}/dashboard  (client token: {result.client_token})")
    console.print(f"to serve this data again: {serve_command(result.data_dir)}")
