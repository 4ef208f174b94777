"""Export a torch module to one self-contained ONNX file with either torch exporter."""

from __future__ import annotations

import io
import logging
import threading
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx
    import torch

logger = logging.getLogger(__name__)

#: ONNX opset written by both exporters.
OPSET = 20
#: torch's exporters keep process-global state (``GLOBALS.in_onnx_export``, the thread count set
#: below): two exports at once in one process fail, e.g. a request thread and the service's
#: audit thread exporting specs.
_EXPORT_LOCK = threading.Lock()


def export_onnx(
    module: torch.nn.Module,
    example: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    dynamo: bool = False,
    input_names: tuple[str, ...] = ("input",),
    output_names: tuple[str, ...] = ("output",),
) -> bytes:
    """Export ``module`` at the fixed shape of ``example`` and return the ONNX bytes.

    Both the TorchScript exporter (``dynamo=False``) and the torch.export-based one
    (``dynamo=True``) are supported; weights are embedded (no external data), batch is fixed.

    Args:
        module: the network, in eval mode.
        example: an input tensor (or a tuple of them) of the exact shape to export.
        dynamo: choose the torch.export-based exporter.
        input_names: graph input names (TorchScript exporter; one per example tensor).
        output_names: graph output names (TorchScript exporter).

    Returns:
        The serialised ``ModelProto``.
    """
    import torch

    module.eval()
    buffer = io.BytesIO()
    args = example if isinstance(example, tuple) else (example,)
    with _EXPORT_LOCK:
        threads = torch.get_num_threads()
        # Tracing runs the batch-1 network once; one thread is several times faster than a pool
        # fighting other processes for the cores.
        torch.set_num_threads(1)
        try:
            proto = _export(module, args, buffer, dynamo, (input_names, output_names))
        finally:
            torch.set_num_threads(threads)
    logger.debug("exported %s with %d nodes", type(module).__name__, len(proto.graph.node))
    return proto.SerializeToString()


def _export(
    module: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    buffer: io.BytesIO,
    dynamo: bool,
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> onnx.ModelProto:
    import onnx
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if dynamo:
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                opset_version=OPSET,
                verbose=False,
                external_data=False,
                optimize=True,
            )
            assert program is not None
            proto = program.model_proto
        else:
            torch.onnx.export(
                module,
                args,
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                opset_version=OPSET,
                input_names=list(names[0]),
                output_names=list(names[1]),
                do_constant_folding=True,
            )
            proto = onnx.load_from_string(buffer.getvalue())
    return proto
