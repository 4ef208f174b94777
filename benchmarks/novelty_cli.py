"""``perfloop bench novelty`` and ``perfloop bench novelty-corpus``."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

import typer

CORPUS_HELP = "Zoo-format corpus (*.jsonl.gz, predictor.data.zoo); repeat to join."


def _table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="held-out family (nested LOFO), mean over seeds")
    for col in ("form", "family", "cov90", "width", "MAPE", "lost", "AUROC fam", "AUROC mixed"):
        t.add_column(col)
    for form, res in result["forms"].items():
        for fam, reps in res["families"].items():

            def m(key: str, reps: list[dict[str, Any]] = reps) -> str:
                vals = [r[key] for r in reps if r[key] is not None]
                return f"{sum(vals) / len(vals):.2f}" if vals else "-"

            t.add_row(
                form,
                fam,
                m("coverage_90"),
                m("median_width"),
                m("mape"),
                m("lost_share"),
                m("auroc_family"),
                m("auroc_mixed"),
            )
    Console(width=140).print(t)


def register(bench: typer.Typer) -> None:
    """Add the two commands to the ``bench`` group."""

    @bench.command("novelty")
    def novelty(
        corpus: list[Path] = typer.Option(..., "--corpus", help=CORPUS_HELP),
        artifact: Path = typer.Option(
            Path("novelty-artifact"), "--artifact", help="Artifact dir (trained here if absent)."
        ),
        support: int = typer.Option(10, "--support-per-family", help="Measured per other family."),
        seeds: int = typer.Option(3, "--seeds"),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
        throughput_graphs: int = typer.Option(
            4096, "--throughput-graphs", help="NB201 graphs per timed predict call (0: skip)."
        ),
    ) -> None:
        """Leave-one-family-out coverage, width and AUROC of the novelty-aware interval."""
        import torch

        from benchmarks.novelty import evaluate, load_corpus, make_folds, predict_throughput
        from benchmarks.novelty_artifact import train_artifact
        from predictor.artifact import load_ensemble
        from predictor.spaces.registry import get_space

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        torch.set_num_threads(1)
        start = time.perf_counter()
        if not (artifact / "metadata.json").exists():
            train_artifact(artifact)
        ensemble, _ = load_ensemble(artifact)
        result: dict[str, Any] = {"devices": {}, "load_avg_start": os.getloadavg()}
        for dev in load_corpus(corpus):
            folds = [f for s in range(seeds) for f in make_folds(dev, ensemble, support, s)]
            result["devices"][dev.device] = {
                "families": {str(f): int((dev.families == f).sum()) for f in set(dev.families)},
                "forms": evaluate(folds),
            }
            _table(result["devices"][dev.device])
            if throughput_graphs > 0:
                space = get_space("nasbench201")
                rng = random.Random(0)
                graphs = [space.to_ir(space.sample(rng)) for _ in range(throughput_graphs)]
                result["devices"][dev.device]["throughput"] = predict_throughput(
                    artifact, dev, graphs
                )
                typer.echo(json.dumps(result["devices"][dev.device]["throughput"]))
        result.update(
            support_per_family=support,
            seeds=seeds,
            wall_s=time.perf_counter() - start,
            load_avg_end=os.getloadavg(),
        )
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(result, indent=2, sort_keys=True))
            typer.echo(f"wrote {json_out}")

    @bench.command("novelty-infamily")
    def novelty_infamily(
        artifact: Path = typer.Option(
            Path("novelty-artifact"), "--artifact", help="Artifact dir (trained here if absent)."
        ),
        space: str = typer.Option("nasbench201", "--space", help="nasbench201 or fbnet."),
        json_out: Path | None = typer.Option(None, "--json", help="Write the result JSON here."),
    ) -> None:
        """Few-shot coverage on the published NB201/FBNet devices, with and without novelty."""
        import torch

        from benchmarks.novelty_artifact import train_artifact
        from benchmarks.novelty_infamily import in_family
        from predictor.artifact import load_ensemble

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        torch.set_num_threads(1)
        if space not in ("nasbench201", "fbnet"):
            raise typer.BadParameter(f"space {space!r}; choose nasbench201 or fbnet")
        start = time.perf_counter()
        if not (artifact / "metadata.json").exists():
            train_artifact(artifact)
        ensemble, _ = load_ensemble(artifact)
        result: dict[str, Any] = {"space": space, "load_avg_start": os.getloadavg()}
        result["runs"] = in_family(ensemble, space)
        result.update(wall_s=time.perf_counter() - start, load_avg_end=os.getloadavg())
        for key, run in result["runs"].items():
            typer.echo(f"{key}: {json.dumps(run['mean'])}")
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(result, indent=2, sort_keys=True))
            typer.echo(f"wrote {json_out}")

    @bench.command("novelty-corpus")
    def novelty_corpus(
        out: Path = typer.Option(..., "--out", help="Corpus file to append to (.jsonl.gz)."),
        per_space: int = typer.Option(30, "--per-space", help="Random specs per search space."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Measure a small cross-family ort-cpu corpus on this host (resumable)."""
        from benchmarks.novelty_corpus import measure_corpus

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        typer.echo(f"wrote {measure_corpus(out, per_space, seed)} records to {out}")
