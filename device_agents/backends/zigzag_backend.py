"""``zigzag`` / ``zigzag-tpu``: accelerator latency and energy from ZigZag (``zigzag-dse``), an
analytical design-space-exploration model, on the shape-inferred ONNX. Simulated.

Profiler: ZigZag's stage pipeline (ONNX parser, accelerator parser, spatial and temporal mapping
search, cost model) minimising latency; a layer identical to one already searched (in this model
or, through :mod:`.zigzag_cache`, an earlier one) reuses its result, which gives the same totals
as ZigZag's ``SumStage`` pipeline.
Parser: the summed cost-model evaluation: cycles -> ms
at the accelerator's stated clock, pJ -> mJ. ZigZag costs the MAC layers (Conv, Gemm, MatMul);
element-wise, pooling and activation operators are not costed by it.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from device_agents.backends.base import Backend, BackendResult, simulated_latency
from device_agents.backends.zigzag_cache import LayerCostCache, cache_dir
from device_agents.convert.lower import prepare_onnx
from device_agents.protocol import MeasurementProtocol
from device_agents.schemas import DeviceKind

# LOMA loop-prime-factor limit (ZigZag's default is 6): lower searches fewer loop orders. 2 gave
# the same latency as 3 and 4 on a kws-space model; on a tiny CNN 4 vs 6 differed by 1.4 %.
LPF_LIMIT = 2


@lru_cache(maxsize=1)
def accelerators() -> dict[str, dict[str, Any]]:
    """The bundled accelerator descriptions (``data/zigzag_accelerators.json``)."""
    text = resources.files("device_agents").joinpath("data/zigzag_accelerators.json").read_text()
    data: dict[str, dict[str, Any]] = json.loads(text)["accelerators"]
    return data


def zigzag_version() -> str:
    """Version of the installed ``zigzag-dse`` package."""
    return importlib.metadata.version("zigzag-dse")


def layer_key(layer: Any) -> str:
    """What ZigZag's per-layer mapping search and cost model see of a layer, as text.

    Two layers with the same key (operator, loop sizes, precisions, padding, strides and
    dilations through the dimension relations, constant operands, and the mapping file's
    constraints for the operator) get the same search and the same cost: ZigZag costs each MAC
    layer on its own. Names, ids and graph links are left out.
    """
    parts = (
        layer.type,
        layer.equation,
        layer.layer_dim_sizes,
        layer.operand_precision,
        layer.dimension_relations,
        layer.padding,
        layer.constant_operands,
        layer.pr_layer_dim_sizes,
        layer.spatial_mapping,
        layer.spatial_mapping_hint,
        layer.memory_operand_links,
        layer.temporal_ordering,
    )
    return "|".join(repr(p) for p in parts)


def _layer_stage() -> type:
    """A ZigZag stage, in place of ``SumStage`` + ``WorkloadStage``: map each distinct layer once.

    It yields one ``(totals, counts)`` pair: ``totals`` is ``(energy_pj, cycles)`` summed over
    the MAC layers, as ``SumStage`` sums them (CumulativeCME adds ``energy_total`` and
    ``latency_total2``); ``counts`` is (MAC layers, layers searched, layers reused). A layer is
    searched only when the ``layer_cache`` kwarg (:class:`LayerCostCache`) has no identical one.
    """
    from zigzag.stages.stage import Stage
    from zigzag.workload.layer_node import LayerNode

    class DistinctLayerSumStage(Stage):  # type: ignore[misc]
        def run(self) -> Any:
            workload, accelerator = self.kwargs["workload"], self.kwargs["accelerator"]
            cache: LayerCostCache = self.kwargs["layer_cache"]
            energy_pj = cycles = 0.0
            layers = 0
            for layer in workload.topological_sort():
                if not isinstance(layer, LayerNode):
                    continue
                key = layer_key(layer)
                found = cache.get(key)
                if found is None:
                    kwargs = {**self.kwargs, "layer": layer, "accelerator": accelerator}
                    sub = self.list_of_callables[0](self.list_of_callables[1:], **kwargs)
                    ((cme, _),) = list(sub.run())
                    found = (float(cme.energy_total), float(cme.latency_total2))
                    cache.put(key, *found)
                energy_pj += found[0]
                cycles += found[1]
                layers += 1
            yield (energy_pj, cycles), (layers, cache.misses, cache.hits)

    return DistinctLayerSumStage


#: The search settings below, part of every cache key.
SEARCH_SETTINGS = f"lpf={LPF_LIMIT};mappings=1;mix_spatial=0;same_data_no_access=1;temporal=uneven"


def run_pipeline(
    layer_stages: list[Any], model: Any, hardware: str, mapping: str, **extra: Any
) -> list[Any]:
    """ZigZag's stages with perfloop's search settings, ``layer_stages`` iterating the layers.

    The pipeline is: ONNX and accelerator parsers, ``layer_stages`` (which run the rest once per
    layer and reduce), minimal-latency spatial and temporal mapping search, cost model.
    ``extra`` goes to every stage. Returns ``MainStage.run()``'s list.
    """
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
    from zigzag.stages.main import MainStage
    from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
    from zigzag.stages.mapping.temporal_mapping_generator_stage import (
        TemporalMappingGeneratorStage,
    )
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
    from zigzag.stages.parser.onnx_model_parser import ONNXModelParserStage
    from zigzag.stages.results.reduce_stages import MinimalLatencyStage

    stages: list[Any] = [
        ONNXModelParserStage,
        AcceleratorParserStage,
        *layer_stages,
        MinimalLatencyStage,
        SpatialMappingGeneratorStage,
        MinimalLatencyStage,
        TemporalMappingGeneratorStage,
        CostModelStage,
    ]
    with tempfile.TemporaryDirectory(prefix="perfloop-zigzag-") as dump:
        main = MainStage(
            list_of_callables=stages,
            accelerator=hardware,
            workload=model,
            mapping=mapping,
            dump_folder=dump,
            loma_lpf_limit=LPF_LIMIT,
            loma_show_progress_bar=False,
            nb_mappings_generated=1,
            enable_mix_spatial_mapping_generation=False,
            access_same_data_considered_as_no_access=True,
            temporal_mapping_type=TemporalMappingType("uneven"),
            **extra,
        )
        answers: list[Any] = main.run()
    return answers


def _run_zigzag(
    model: Any, hardware: str, mapping: str, cache: LayerCostCache
) -> tuple[float, float, tuple[int, int, int]]:
    """(energy pJ, cycles, (MAC layers costed, layers searched, layers reused)) of one model."""
    ((totals, counts),) = run_pipeline(
        [_layer_stage()], model, hardware, mapping, layer_cache=cache
    )
    return totals[0], totals[1], counts


@lru_cache(maxsize=8)
def _search_context(hardware: str, mapping: str) -> str:
    """Everything besides the layer that a cached result depends on (part of its key)."""
    files = [Path(hardware).read_text(), Path(mapping).read_text()]
    return "\n".join([zigzag_version(), SEARCH_SETTINGS, *files])


class ZigZagBackend(Backend):
    """ZigZag latency / energy on one bundled accelerator.

    Args:
        accelerator: A key of ``data/zigzag_accelerators.json``.
    """

    name: ClassVar[str] = "zigzag"
    device_kind: ClassVar[DeviceKind] = "npu"
    simulated: ClassVar[bool] = True
    runtime: ClassVar[str] = "zigzag"

    def __init__(self, accelerator: str = "edge-tpu-like") -> None:
        if accelerator not in accelerators():
            valid = ", ".join(sorted(accelerators()))
            raise KeyError(f"unknown ZigZag accelerator {accelerator!r}; valid: {valid}")
        self.accelerator = accelerator
        self.spec = accelerators()[accelerator]

    def describe(self) -> dict[str, Any]:
        """ZigZag version, accelerator, clock and where the clock comes from."""
        return {
            "backend": self.name,
            "runtime_version": zigzag_version(),
            "simulated": True,
            "accelerator": self.accelerator,
            "clock_mhz": self.spec["clock_mhz"],
            "clock_source": self.spec["clock_source"],
        }

    def profile(self, onnx_bytes: bytes, protocol: MeasurementProtocol) -> BackendResult:
        """Shape-infer the model, run ZigZag, convert cycles and pJ."""
        model = prepare_onnx(onnx_bytes)
        package = resources.files("zigzag")
        hardware = str(package.joinpath(self.spec["hardware"]))
        mapping = str(package.joinpath(self.spec["mapping"]))
        logging.getLogger("zigzag").setLevel(logging.ERROR)
        cache = LayerCostCache(cache_dir(), _search_context(hardware, mapping))
        try:
            energy_pj, cycles, (layers, searched, reused) = _run_zigzag(
                model, hardware, mapping, cache
            )
        finally:
            cache.close()
        clock_mhz = float(self.spec["clock_mhz"])
        return BackendResult(
            measurement_kind="simulated",
            runtime=self.runtime,
            runtime_version=zigzag_version(),
            threads=None,
            cpu=self.accelerator,
            clock_mhz=clock_mhz,
            latency_ms=simulated_latency(cycles / (clock_mhz * 1e3)),
            energy_mj=energy_pj * 1e-9,
            extra={
                "cycles": cycles,
                "energy_pj": energy_pj,
                "costed_layers": layers,
                "layers_searched": searched,
                "layers_reused": reused,
                "latency_source": "ZigZag cost model (MAC layers only), minimal-latency mapping",
            },
        )
