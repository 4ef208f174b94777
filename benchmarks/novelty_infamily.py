"""In-family check of the novelty-aware interval: the published few-shot protocol on NB201/FBNet.

The few-shot benchmark (``perfloop bench fewshot``) on the test devices, with the ensemble of
:mod:`benchmarks.novelty_artifact` (meta-trained on both tables' meta-train devices at once, 900
archs each) instead of one meta-training per space, so both configurations come from one
forward pass over each table; the 90 % coverage and median width with and without the novelty
terms, every other setting the bench's default.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.predictor.fewshot import Features, FewShotBench, device_scores
from benchmarks.predictor.references import reference_rows
from predictor.data.splits import PUBLISHED_SPLITS
from predictor.data.tables import default_table_path, load_tables
from predictor.ensemble import Ensemble
from predictor.features.cache import featurize_archs
from predictor.fewshot import FewShotConfig
from predictor.spaces.table_graphs import graph_builder

SPLITS = ("test", "validation")


def in_family(ensemble: Ensemble, space: str) -> dict[str, Any]:
    """Per split and device: perfloop's scores with the default config and without novelty."""
    table = load_tables([default_table_path(space)])
    name, to_ir = graph_builder(space)
    graphs = featurize_archs(name, list(table.archs), to_ir)
    feats = Features.build(table, graphs)
    member_log = ensemble.log_predict(feats.graphs, "latency_ms")
    refs = reference_rows(table.archs, space)
    split = PUBLISHED_SPLITS[space].restricted_to(table.devices)
    configs = {
        "novelty": FewShotConfig(),
        "no_novelty": replace(
            FewShotConfig(), unseen_scale=0.0, distance_scale=0.0, local_bandwidth=0.0
        ),
    }
    out: dict[str, Any] = {}
    for split_name in SPLITS:
        devices = getattr(split, split_name)
        for label, config in configs.items():
            bench = FewShotBench(space, ensemble.config.devices, devices, fewshot=config)
            per_device = {
                d: device_scores(table.column(d), member_log, feats, refs, bench)["perfloop"]
                for d in devices
            }
            mean = {
                key: float(np.mean([v[key] for v in per_device.values() if v[key] is not None]))
                for key in ("spearman", "mape", "coverage_90", "width_90")
            }
            out[f"{split_name}/{label}"] = {"devices": per_device, "mean": mean}
    return out
