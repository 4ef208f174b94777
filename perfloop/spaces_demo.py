"""The interim ``perfloop demo``: every search space, end to end through ONNX and the graph IR.

For each space it samples a few architectures, exports them with the TorchScript exporter,
imports the bytes with :func:`predictor.ir.ir_from_onnx` and prints what the IR says about them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

#: Samples above this many parameters are redrawn so the demo's exports stay quick.
DEMO_MAX_PARAMS = 5_000_000
SPEC_WIDTH = 36


@dataclass(frozen=True)
class DemoRow:
    """What the demo reports for one exported architecture."""

    space: str
    spec: str
    macs: int
    params: int
    model_bytes: int
    peak_activation_bytes: int
    nodes: int
    onnx_bytes: int
    export_s: float
    matches_spec_ir: bool


def _human(value: float, unit: str = "") -> str:
    for suffix in ("", "K", "M", "G", "T"):
        if abs(value) < 1000:
            return f"{value:.3g}{suffix}{unit}"
        value /= 1000
    return f"{value:.3g}P{unit}"


def _shorten(text: str) -> str:
    return text if len(text) <= SPEC_WIDTH else text[: SPEC_WIDTH - 1] + "…"


def demo_rows(space_name: str, count: int, rng: random.Random) -> list[DemoRow]:
    """Sample ``count`` small-enough specs of one space, export and import each."""
    from predictor.ir.onnx_import import ir_from_onnx
    from predictor.spaces import get_space

    space = get_space(space_name)
    rows: list[DemoRow] = []
    while len(rows) < count:
        spec = space.sample(rng)
        expected = space.to_ir(spec)
        if expected.params > DEMO_MAX_PARAMS:
            continue
        start = time.perf_counter()
        data = space.to_onnx(spec)
        export_s = time.perf_counter() - start
        ir = ir_from_onnx(data)
        rows.append(
            DemoRow(
                space_name,
                space.encode(spec),
                ir.macs,
                ir.params,
                ir.model_bytes,
                ir.peak_activation_bytes,
                ir.num_nodes,
                len(data),
                export_s,
                ir == expected,
            )
        )
    return rows


def render(rows: list[DemoRow]) -> Table:
    """The Rich table of demo rows."""
    table = Table(title="perfloop demo: search spaces -> ONNX -> graph IR")
    table.add_column("space", no_wrap=True)
    table.add_column("spec", no_wrap=True, overflow="ellipsis", max_width=SPEC_WIDTH)
    for column in ("MACs", "params", "model", "peak act.", "nodes", "export"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.space,
            _shorten(r.spec),
            _human(r.macs),
            _human(r.params),
            _human(r.model_bytes, "B"),
            _human(r.peak_activation_bytes, "B"),
            str(r.nodes),
            f"{r.export_s:.2f}s",
        )
    return table


def run_demo(per_space: int = 2, seed: int = 0, console: Console | None = None) -> list[DemoRow]:
    """Run the demo and print its table; returns the rows.

    Args:
        per_space: architectures per search space.
        seed: seed of the sampler (same seed, same architectures).
        console: where to print (stdout by default).
    """
    from predictor.spaces import SPACES

    console = console or Console()
    rng = random.Random(seed)
    rows: list[DemoRow] = []
    start = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("exporting", total=len(SPACES))
        for name in SPACES:
            progress.update(task, description=f"exporting {name}")
            rows.extend(demo_rows(name, per_space, rng))
            progress.advance(task)
    console.print(render(rows))
    same = sum(r.matches_spec_ir for r in rows)
    console.print(
        f"{len(rows)} architectures from {len(SPACES)} spaces in "
        f"{time.perf_counter() - start:.1f}s; {same}/{len(rows)} imported IRs equal the IR "
        "built straight from the spec"
    )
    return rows
