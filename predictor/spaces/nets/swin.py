"""torch network of :class:`predictor.spaces.swin.WindowTransformerSpace`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from predictor.spaces.attention_ir import window_for
from predictor.spaces.nets.attention import WindowBlock, randomize_layernorm, to_image, to_tokens


class WindowTransformer(nn.Module):
    """Patch embedding, windowed-attention stages with 2x2 merge convs, mean-pooled head."""

    def __init__(self, spec: dict[str, Any], grids: list[int]) -> None:
        super().__init__()
        torch.manual_seed(0)
        dim, p = spec["dim"], spec["patch"]
        self.grids = grids
        self.patch = nn.Conv2d(3, dim, p, p)
        self.norm0 = nn.LayerNorm(dim)
        self.merges = nn.ModuleList()
        self.stages = nn.ModuleList()
        for stage, depth in enumerate(spec["depths"]):
            c, g = dim * 2**stage, grids[stage]
            if stage:
                self.merges.append(nn.Sequential(nn.Conv2d(c // 2, c, 2, 2)))
                self.merges.append(nn.LayerNorm(c))
            win = window_for(g, spec["window"])
            heads = spec["heads"] * 2**stage
            self.stages.append(
                nn.Sequential(
                    *(WindowBlock(c, heads, spec["mlp_ratio"], (g, g), win) for _ in range(depth))
                )
            )
        c = dim * 2 ** (len(spec["depths"]) - 1)
        self.norm = nn.LayerNorm(c)
        self.head = nn.Linear(c, spec["classes"])
        randomize_layernorm(self, 2)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.norm0(to_tokens(self.patch(x)))
        for stage, blocks in enumerate(self.stages):
            if stage:
                g = self.grids[stage - 1]
                conv, norm = self.merges[2 * stage - 2], self.merges[2 * stage - 1]
                t = norm(to_tokens(conv(to_image(t, (g, g)))))
            t = blocks(t)
        return self.head(self.norm(t).mean(1))
