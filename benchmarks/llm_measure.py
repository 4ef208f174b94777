"""Measure decoder-LM prefill and decode steps, and whole generations, with ort-cpu (real).

Every spec is exported by the ``llm`` space (TorchScript exporter) and timed by the ort-cpu
agent backend (:class:`device_agents.backends.ort_cpu.OrtCpuBackend`) under one protocol: one
intra-op thread, the calling thread's CPU clock (repeatable on a shared 2-core machine). A
generation (prompt P, N new tokens) runs the prefill graph once and then N decode steps on a
decode graph whose cache axis is made dynamic, feeding each step's grown cache to the next; the
prefill graph does not return its cache, so the first step reads a cache of P seeded positions
(same shapes and work as the real one). Results append to a JSON-lines file (resumable).

Run: ``python -m benchmarks.llm_measure --out docs/results/llm_ort_cpu.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from benchmarks.llm_configs import param_count, phase_specs, sample_architectures
from device_agents.backends.ort_cpu import OrtCpuBackend, cpu_session
from device_agents.protocol import MeasurementProtocol
from predictor.spaces.llm import DecoderLMSpace

logger = logging.getLogger(__name__)

SPACE = DecoderLMSpace()
PROTOCOL = MeasurementProtocol(
    warmup_runs=1,
    min_runs=4,
    min_time_s=0.0,
    max_time_s=30.0,
    max_cv=0.1,
    max_remeasure=1,
    threads=1,
    clock="thread_cpu",
    keep_raw_samples=False,
)


def measure_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Export one spec and time it with the ort-cpu backend."""
    start = time.perf_counter()
    data = SPACE.to_onnx(spec)
    export_s = time.perf_counter() - start
    result = OrtCpuBackend().profile(data, PROTOCOL)
    assert result.latency_ms is not None
    return {
        "kind": "step",
        "spec": spec,
        "encoded": SPACE.encode(spec),
        "params": param_count(spec),
        "latency_ms": result.latency_ms.median,
        "latency_mean_ms": result.latency_ms.mean,
        "runs": result.latency_ms.n_runs,
        "threads": result.threads,
        "clock": PROTOCOL.clock,
        "runtime_version": result.runtime_version,
        "onnx_bytes": len(data),
        "export_s": round(export_s, 1),
        "loadavg": os.getloadavg(),
    }


def dynamic_cache(data: bytes) -> bytes:
    """The decode graph with its cache axis (axis 2 of past/present tensors) made symbolic."""
    model = onnx.load_from_string(data)
    del model.graph.value_info[:]
    for value in [*model.graph.input, *model.graph.output]:
        if value.name.startswith(("past_", "present_")):
            value.type.tensor_type.shape.dim[2].dim_param = (
                "context" if value.name.startswith("past_") else "context_plus_1"
            )
    return model.SerializeToString()


def measure_generation(arch: dict[str, Any], prompt: int, new_tokens: int) -> dict[str, Any]:
    """Time prefill + ``new_tokens`` decode steps with a growing KV cache (thread CPU clock)."""
    prefill = {**arch, "seq_len": prompt}
    decode = {**arch, "seq_len": 1, "phase": "decode", "context": prompt}
    pre = cpu_session(SPACE.to_onnx(prefill), 1)
    dec = cpu_session(dynamic_cache(SPACE.to_onnx(decode)), 1)
    ids = np.zeros((1, prompt), dtype=np.int64)
    rng = np.random.default_rng(0)
    shape = SPACE.cache_shape(decode)
    names = [i.name for i in dec.get_inputs()]
    totals: list[tuple[float, float]] = []
    for _ in range(2):  # the first run also warms the sessions up
        cache = [rng.standard_normal(shape).astype(np.float32) for _ in names[1:]]
        t0 = time.thread_time()
        pre.run(None, {"input": ids})
        ttft = time.thread_time() - t0
        token = np.zeros((1, 1), np.int64)
        for _ in range(new_tokens):
            out = dec.run(None, {"input": token, **dict(zip(names[1:], cache, strict=True))})
            cache = out[1:]
        totals.append((ttft * 1e3, (time.thread_time() - t0) * 1e3))
    ttft_ms, total_ms = min(totals[1:], key=lambda t: t[1])
    return {
        "kind": "generation",
        "spec": arch,
        "encoded": SPACE.encode(prefill),
        "params": param_count(arch),
        "prompt": prompt,
        "new_tokens": new_tokens,
        "ttft_ms": ttft_ms,
        "total_ms": total_ms,
        "threads": 1,
        "clock": "thread_cpu",
        "loadavg": os.getloadavg(),
    }


def _done(path: Path) -> set[str]:
    if not path.exists():
        return set()
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {f"{r['kind']}:{r['encoded']}" for r in rows}


def main(argv: list[str] | None = None) -> None:
    """CLI: measure sampled architectures' steps, then a few whole generations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results/llm_ort_cpu.jsonl"))
    parser.add_argument("--archs", type=int, default=24)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-generations", action="store_true", help="Skip the steps.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    archs = sample_architectures(args.archs, args.seed)
    rng = random.Random(args.seed)
    jobs = [(a, s) for a in archs for s in phase_specs(a, rng)]
    done = _done(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    gen_archs = [a for a in archs if param_count(a) >= 100_000_000][-args.generations :]
    for i, (_, spec) in enumerate(jobs):
        if args.only_generations or f"step:{SPACE.encode(spec)}" in done:
            continue
        row = measure_spec(spec)
        logger.info("%d/%d %s %.1f ms", i + 1, len(jobs), row["encoded"], row["latency_ms"])
        with args.out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
    for arch in gen_archs:
        if f"generation:{SPACE.encode({**arch, 'seq_len': 128})}" in done:
            continue
        row = measure_generation(arch, 128, 64)
        logger.info("generation %s %.0f ms", row["encoded"], row["total_ms"])
        with args.out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
