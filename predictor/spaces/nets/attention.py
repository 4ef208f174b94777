"""torch attention layers of the zoo families (see :mod:`predictor.spaces.attention_ir`).

Shapes are read as Python ints so both exporters write fixed-shape reshapes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MHSA(nn.Module):
    """Multi-head attention of ``x``'s queries over ``kv``'s keys and values (batched)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q, self.k = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v, self.o = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.scale = self.head_dim**-0.5

    def forward(self, x: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        b, n, d = (int(s) for s in x.shape)
        m, h, hd = int(kv.shape[1]), self.heads, self.head_dim
        q = self.q(x).reshape(b, n, h, hd).permute(0, 2, 1, 3)
        k = self.k(kv).reshape(b, m, h, hd).permute(0, 2, 3, 1)
        v = self.v(kv).reshape(b, m, h, hd).permute(0, 2, 1, 3)
        probs = torch.softmax(torch.matmul(q, k) * self.scale, dim=-1)
        return self.o(torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, n, d))


class MLP(nn.Module):
    """Linear -> GELU -> Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(1, C, H, W)`` -> ``(1, H*W, C)``."""
    _, c, h, w = (int(s) for s in x.shape)
    return x.reshape(1, c, h * w).permute(0, 2, 1)


def to_image(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """``(1, H*W, C)`` -> ``(1, C, H, W)``."""
    c = int(x.shape[-1])
    return x.permute(0, 2, 1).reshape(1, c, *hw)


class TokenBlock(nn.Module):
    """Pre-norm block, global or with pooled keys/values (``pool > 1``) over a token ``grid``."""

    def __init__(
        self, dim: int, heads: int, mlp_ratio: int, pool: int = 1, grid: tuple[int, int] = (0, 0)
    ) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn, self.mlp = MHSA(dim, heads), MLP(dim, dim * mlp_ratio)
        self.grid = grid
        self.reduce = nn.Conv2d(dim, dim, pool, pool) if pool > 1 else None
        self.reduce_norm = nn.LayerNorm(dim) if pool > 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        kv = y
        if self.reduce is not None and self.reduce_norm is not None:
            kv = self.reduce_norm(to_tokens(self.reduce(to_image(y, self.grid))))
        x = x + self.attn(y, kv)
        return x + self.mlp(self.norm2(x))


class WindowBlock(nn.Module):
    """Pre-norm block attending within non-overlapping ``window x window`` windows."""

    def __init__(
        self, dim: int, heads: int, mlp_ratio: int, grid: tuple[int, int], window: int
    ) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn, self.mlp = MHSA(dim, heads), MLP(dim, dim * mlp_ratio)
        self.grid, self.window = grid, window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, ws = int(x.shape[-1]), self.window
        h, w = self.grid
        nh, nw = h // ws, w // ws
        y = self.norm1(x).reshape(1, nh, ws, nw, ws, c).permute(0, 1, 3, 2, 4, 5)
        y = y.reshape(nh * nw, ws * ws, c)
        y = self.attn(y, y)
        y = y.reshape(1, nh, nw, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
        x = x + y.reshape(1, h * w, c)
        return x + self.mlp(self.norm2(x))


def unfold(x: torch.Tensor, patch: int) -> torch.Tensor:
    """MobileViT unfold: ``(1, d, H, W)`` -> ``(p*p, H*W/(p*p), d)``."""
    _, d, h, w = (int(s) for s in x.shape)
    y = x.reshape(1, d, h // patch, patch, w // patch, patch).permute(0, 3, 5, 2, 4, 1)
    return y.reshape(patch * patch, (h // patch) * (w // patch), d)


def fold(x: torch.Tensor, patch: int, hw: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`unfold`."""
    d = int(x.shape[-1])
    h, w = hw
    y = x.reshape(1, patch, patch, h // patch, w // patch, d).permute(0, 5, 3, 1, 4, 2)
    return y.reshape(1, d, h, w)


def randomize_layernorm(module: nn.Module, seed: int) -> nn.Module:
    """Non-trivial LayerNorm affine parameters (defaults 1 / 0 let exporters drop the bias)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.LayerNorm):
                layer.weight.copy_(1.0 + 0.1 * torch.randn(layer.weight.shape, generator=gen))
                layer.bias.copy_(0.1 * torch.randn(layer.bias.shape, generator=gen))
    return module
