"""torch network of :class:`predictor.spaces.hybrid.HybridSpace`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from predictor.spaces.nets.attention import TokenBlock, fold, randomize_layernorm, to_tokens, unfold
from predictor.spaces.nets.plan import conv_bn, module_for
from predictor.spaces.plan import ConvBN, Layer
from predictor.spaces.torch_blocks import ClassifierHead, randomize_batchnorm


class MobileViTBlock(nn.Module):
    """Local conv, unfold, transformer blocks across patches, fold, fuse with the input."""

    def __init__(self, cin: int, spec: dict[str, Any]) -> None:
        super().__init__()
        dim, self.patch = spec["dim"], spec["pool"]
        self.local = nn.Sequential(
            conv_bn(cin, ConvBN(cin, (3, 3))), conv_bn(cin, ConvBN(dim, (1, 1), act="none"))
        )
        self.blocks = nn.Sequential(
            *(TokenBlock(dim, spec["heads"], spec["mlp_ratio"]) for _ in range(spec["depth"]))
        )
        self.norm = nn.LayerNorm(dim)
        self.back = conv_bn(dim, ConvBN(cin, (1, 1)))
        self.fuse = conv_bn(2 * cin, ConvBN(cin, (3, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hw = (int(x.shape[2]), int(x.shape[3]))
        y = self.norm(self.blocks(unfold(self.local(x), self.patch)))
        y = self.back(fold(y, self.patch, hw))
        return self.fuse(torch.cat([x, y], 1))


class HybridNet(nn.Module):
    """Conv stem and MBConv stages, then global/pooled attention or a MobileViT block."""

    def __init__(self, spec: dict[str, Any], conv_layers: list[Layer], grid: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        modules, channels = [], 3
        for layer in conv_layers:
            module, channels = module_for(channels, layer)
            modules.append(module)
        self.convs = nn.Sequential(*modules)
        self.mobilevit = spec["attn"] == "mobilevit"
        dim = spec["dim"]
        if self.mobilevit:
            self.attn: nn.Module = MobileViTBlock(channels, spec)
            self.head: nn.Module = ClassifierHead(channels, spec["classes"])
        else:
            self.proj = nn.Conv2d(channels, dim, 1)
            self.attn = nn.Sequential(
                *(
                    TokenBlock(dim, spec["heads"], spec["mlp_ratio"], spec["pool"], (grid, grid))
                    for _ in range(spec["depth"])
                )
            )
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, spec["classes"])
        randomize_layernorm(self, 2)
        randomize_batchnorm(self, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)
        if self.mobilevit:
            return self.head(self.attn(x))
        t = self.attn(to_tokens(self.proj(x)))
        return self.head(self.norm(t).mean(1))
