"""Recurrent sequence models: LSTM/GRU stacks over feature frames (audio, sensor, text features).

Input ``(1, seq_len, features)``; the last step's output goes to a linear classifier. The IR
keeps each layer as one ``LSTM``/``GRU`` node (as the TorchScript exporter writes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from predictor.ir.schema import GraphIR
from predictor.spaces.dictspace import DictSpace
from predictor.spaces.irgraph import IRWriter, tspec

if TYPE_CHECKING:
    import torch

_GATES = {"lstm": 4, "gru": 3}


class RecurrentSpace(DictSpace):
    """LSTM/GRU classifiers from keyword-spotting size to a few MB."""

    name = "rnn"
    choices = {
        "cell": ("lstm", "gru"),
        "layers": (1, 2, 3),
        "hidden": (32, 64, 96, 128, 192, 256, 384),
        "bidirectional": (False, True),
        "seq_len": (16, 32, 49, 64, 100, 128),
        "features": (10, 13, 40, 80),
        "classes": (12, 35),
    }

    def input_shape(self, spec: Any) -> tuple[int, ...]:
        """``(1, seq_len, features)``."""
        self.validate(spec)
        return (1, spec["seq_len"], spec["features"])

    def build(self, spec: Any) -> torch.nn.Module:
        """The torch sequence classifier (seeded, eval mode)."""
        import torch

        from predictor.spaces.nets.rnn import SequenceClassifier

        self.validate(spec)
        torch.manual_seed(0)
        net = SequenceClassifier(
            spec["cell"],
            spec["features"],
            spec["hidden"],
            spec["layers"],
            spec["bidirectional"],
            spec["classes"],
        )
        return net.eval()

    def to_ir(self, spec: Any) -> GraphIR:
        """Time-major reshape, one recurrent node per layer, last step, Gemm."""
        self.validate(spec)
        seq, hidden = spec["seq_len"], spec["hidden"]
        dirs = 2 if spec["bidirectional"] else 1
        gates = _GATES[spec["cell"]]
        op = spec["cell"].upper()
        attrs: dict[str, Any] = {
            "direction": "bidirectional" if dirs == 2 else "forward",
            "hidden_size": hidden,
            "layout": 0,
        }
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        w = IRWriter(f"{self.name}:{self.encode(spec)}", self.input_shape(spec))
        x = w.reshape(w.input, (seq, 1, spec["features"]))
        for layer in range(spec["layers"]):
            size_in = w.shape(x)[2]
            weights = (
                tspec((dirs, gates * hidden, size_in)),
                tspec((dirs, gates * hidden, hidden)),
                tspec((dirs, 2 * gates * hidden)),
            )
            y = w.node(op, (x,), (seq, dirs, 1, hidden), weights, attrs)
            last = layer == spec["layers"] - 1
            x = w.reshape(y, (1, seq, dirs * hidden) if last else (seq, 1, dirs * hidden))
        x = w.node("Gather", (x,), (1, dirs * hidden), attrs={"axis": 1})
        return w.finish((w.linear(x, spec["classes"]),))
