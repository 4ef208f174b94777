"""Few-shot LLM latency on ort-cpu: onboard the device with <= 10 measured configs, score the rest.

Reads the measurements of :mod:`benchmarks.llm_measure`. The predictor is the existing path: a
trained ensemble (``--artifact``; by default a quick one trained here on four CPU columns of the
NAS-Bench-201 table, no LLM in it) serves a device it has never seen from that device's samples
(:class:`predictor.api.DeviceContext`); the samples are picked by
:func:`predictor.api.select_measurements` (k-center over static features) among all measured
steps. Held out: every other measured step of an architecture with 100M-350M parameters that
has no onboarding sample. Reported per phase: Spearman and MAPE; and for each measured whole
generation (P=128, N=64) the predicted total (:func:`predictor.spaces.generation.generation_time`)
against the measured one.

Run: ``python -m benchmarks.llm_eval --data docs/results/llm_ort_cpu.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.llm_configs import param_count
from predictor.api import DeviceContext, Predictor, Sample, load_predictor, select_measurements
from predictor.ir.schema import GraphIR
from predictor.metrics import mape, spearman
from predictor.spaces.generation import Interval, generation_time, plan_generation
from predictor.spaces.llm import DecoderLMSpace

logger = logging.getLogger(__name__)
SPACE = DecoderLMSpace()
DEVICE = "ort-cpu-llm"
BASE_DEVICES = ("gold_6226", "gold_6240", "silver_4114", "silver_4210r")


def base_artifact(out: Path, per_device: int = 400, seed: int = 0) -> Path:
    """A quick ensemble trained on NB201 latencies of four CPUs (no LLM), cached at ``out``."""
    if (out / "meta.json").exists() or any(out.glob("*.json")):
        return out
    from predictor.api import train_predictor
    from predictor.data.tables import read_table
    from predictor.spaces.registry import get_space

    table = read_table(Path("/work/shared/data/nasbench201_latency_ms.csv.gz"))
    rng = random.Random(seed)
    rows = rng.sample(range(len(table.archs)), per_device)
    space = get_space("nasbench201")
    graphs = {r: space.to_ir(table.archs[r]) for r in rows}
    samples = [
        Sample(graph=graphs[r], device=d, latency_ms=float(table.latency_ms[r, j]))
        for j, d in enumerate(table.devices)
        if d in BASE_DEVICES
        for r in rows
    ]
    return train_predictor(samples, out, version="nb201-cpu-quick", quick=True)


def _rows(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["kind"] == "step"], [r for r in rows if r["kind"] == "generation"]


def _arch_key(spec: dict[str, Any]) -> str:
    base = {k: v for k, v in spec.items() if k not in ("phase", "context", "seq_len")}
    return json.dumps(base, sort_keys=True)


def _predict(predictor: Predictor, graphs: list[GraphIR], context: DeviceContext) -> list[Interval]:
    batch = predictor.predict(graphs, context, ["latency_ms"])
    return [
        Interval(e["latency_ms"].mean, e["latency_ms"].lo, e["latency_ms"].hi)
        for e in batch.estimates
    ]


def evaluate(
    predictor: Predictor, steps: list[dict[str, Any]], generations: list[dict[str, Any]], k: int
) -> dict[str, Any]:
    """Onboard with ``k`` picked steps; score held-out steps per phase and the generations."""
    graphs = [SPACE.to_ir(r["spec"]) for r in steps]
    picked = select_measurements(graphs, [], k)
    samples = tuple(
        Sample(graph=graphs[i], device=DEVICE, latency_ms=steps[i]["latency_ms"]) for i in picked
    )
    context = DeviceContext(DEVICE, "cpu", samples)
    onboard_archs = {_arch_key(steps[i]["spec"]) for i in picked}
    held = [
        i
        for i, r in enumerate(steps)
        if i not in picked
        and _arch_key(r["spec"]) not in onboard_archs
        and 100e6 <= param_count(r["spec"]) <= 350e6
    ]
    preds = _predict(predictor, [graphs[i] for i in held], context)
    out: dict[str, Any] = {
        "onboarding": [steps[i]["encoded"] for i in picked],
        "onboarding_phases": [steps[i]["spec"].get("phase", "prefill") for i in picked],
    }
    for phase in ("prefill", "decode"):
        idx = [j for j, i in enumerate(held) if steps[i]["spec"].get("phase", "prefill") == phase]
        true = [steps[held[j]]["latency_ms"] for j in idx]
        pred = [preds[j].mean_ms for j in idx]
        out[phase] = {
            "held_out": len(idx),
            "spearman": spearman(pred, true) if len(idx) > 2 else None,
            "mape_pct": 100 * mape(pred, true) if idx else None,
        }
    out["generation"] = [_generation(predictor, context, g) for g in generations]
    return out


def _generation(
    predictor: Predictor, context: DeviceContext, row: dict[str, Any]
) -> dict[str, Any]:
    plan = plan_generation(row["spec"], row["prompt"], row["new_tokens"])
    graphs = [SPACE.to_ir(s) for s in (plan.prefill, *plan.decode)]
    steps = _predict(predictor, graphs, context)
    ttft, total = generation_time(plan, steps[0], steps[1:])
    return {
        "arch": row["encoded"],
        "params": row["params"],
        "measured_total_ms": row["total_ms"],
        "predicted_total_ms": total.mean_ms,
        "interval_ms": [total.lo_ms, total.hi_ms],
        "error_pct": 100 * (total.mean_ms / row["total_ms"] - 1),
        "measured_ttft_ms": row["ttft_ms"],
        "predicted_ttft_ms": ttft.mean_ms,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: print and write the few-shot scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("docs/results/llm_ort_cpu.jsonl"))
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("docs/results/llm_fewshot.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    artifact = args.artifact or base_artifact(Path(tempfile.gettempdir()) / "llm_base_artifact")
    steps, generations = _rows(args.data)
    result = evaluate(load_predictor(artifact), steps, generations, args.k)
    result.update(
        {"artifact": str(artifact), "measured_steps": len(steps), "loadavg": os.getloadavg()}
    )
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "onboarding"}, indent=1))


if __name__ == "__main__":
    main()
