"""Recurrent sequence classifier (LSTM or GRU stack, last step -> Linear) as a torch module."""

from __future__ import annotations

import torch
from torch import nn


class SequenceClassifier(nn.Module):
    """Batch-first LSTM/GRU stack; the last time step's output feeds a linear classifier."""

    def __init__(
        self, cell: str, features: int, hidden: int, layers: int, bidirectional: bool, classes: int
    ) -> None:
        super().__init__()
        rnn_type = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn_type(features, hidden, layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])
