"""Errors shared by the backends and the model converter they use."""

from __future__ import annotations


class UnsupportedModelError(Exception):
    """The backend cannot run this model (an unsupported operator, too big for memory, ...).

    The message names the reason (for an operator: its ONNX op type and node name); the agent
    fails the job with it and goes on with the next one.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
