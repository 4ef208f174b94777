"""ViT encoder and decoder-only (MobileLLM-style) transformer as torch modules.

Attention is written out (projections, reshape/permute, two matmuls, softmax) so both torch
exporters emit plain ONNX operators whose cost the IR can count.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


class Attention(nn.Module):
    """Multi-head attention with grouped key/value heads (``kv_heads`` divides ``heads``)."""

    def __init__(self, dim: int, heads: int, kv_heads: int, bias: bool, causal_len: int = 0):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.q = nn.Linear(dim, dim, bias=bias)
        self.k = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.v = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.o = nn.Linear(dim, dim, bias=bias)
        self.scale = self.head_dim**-0.5
        mask = torch.full((causal_len, causal_len), -1e4).triu(1) if causal_len else None
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, n, dim = (int(d) for d in x.shape)
        kv, group, hd = self.kv_heads, self.heads // self.kv_heads, self.head_dim
        q = self.q(x).reshape(1, n, kv, group, hd).permute(0, 2, 3, 1, 4)
        k = self.k(x).reshape(1, n, kv, 1, hd).permute(0, 2, 3, 4, 1)
        v = self.v(x).reshape(1, n, kv, 1, hd).permute(0, 2, 3, 1, 4)
        scores = torch.matmul(q, k) * self.scale
        if self.mask is not None:
            scores = scores + self.mask
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.o(out.permute(0, 3, 1, 2, 4).reshape(1, n, dim))

    def decode(
        self, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One new token ``x`` ``(1, 1, dim)`` against a cache ``(1, kv_heads, C, head_dim)``.

        Returns the attention output and the grown cache ``(1, kv_heads, C + 1, head_dim)``;
        the new token attends to every cached position, so there is no mask.
        """
        dim = int(x.shape[-1])
        kv, group, hd = self.kv_heads, self.heads // self.kv_heads, self.head_dim
        q = self.q(x).reshape(1, kv, group, 1, hd)
        k = torch.cat((past_k, self.k(x).reshape(1, kv, 1, hd)), dim=2)
        v = torch.cat((past_v, self.v(x).reshape(1, kv, 1, hd)), dim=2)
        scores = torch.matmul(q, k.unsqueeze(2).transpose(3, 4)) * self.scale
        out = torch.matmul(torch.softmax(scores, dim=-1), v.unsqueeze(2))
        return self.o(out.reshape(1, 1, dim)), k, v


class EncoderBlock(nn.Module):
    """Pre-norm ViT block: LayerNorm-attention and LayerNorm-MLP (GELU), both residual."""

    def __init__(self, dim: int, heads: int, mlp: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, heads, bias=True)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VisionTransformer(nn.Module):
    """Patch embedding (strided conv) + learned positions, encoder blocks, mean-pool head."""

    def __init__(
        self, resolution: int, patch: int, dim: int, depth: int, heads: int, mlp: int, classes: int
    ) -> None:
        super().__init__()
        tokens = (resolution // patch) ** 2
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.pos = nn.Parameter(0.02 * torch.randn(1, tokens, dim))
        self.blocks = nn.Sequential(*(EncoderBlock(dim, heads, mlp) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        return self.head(self.norm(self.blocks(x)).mean(1))


class RMSNorm(nn.Module):
    """Root-mean-square norm with a learned scale (written out: pow, mean, add, sqrt, div, mul).

    ``x / sqrt(...)`` rather than ``x * rsqrt(...)``: the two torch exporters write ``rsqrt``
    differently (``Div(1, Sqrt)`` vs ``Reciprocal(Sqrt)``) but agree on a plain division.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class DecoderBlock(nn.Module):
    """RMSNorm-GQA attention (causal) and RMSNorm-SwiGLU feed-forward, both residual."""

    def __init__(self, dim: int, heads: int, kv_heads: int, ffn: int, seq_len: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(dim), RMSNorm(dim)
        self.attn = Attention(dim, heads, kv_heads, bias=False, causal_len=seq_len)
        self.gate = nn.Linear(dim, ffn, bias=False)
        self.up = nn.Linear(dim, ffn, bias=False)
        self.down = nn.Linear(ffn, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return self.ffn(x)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        """The residual SwiGLU half of the block."""
        h = self.norm2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))

    def decode(
        self, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One token through the block with a KV cache; returns it and the grown cache."""
        out, k, v = self.attn.decode(self.norm1(x), past_k, past_v)
        return self.ffn(x + out), k, v


class DecoderLM(nn.Module):
    """Token embedding, decoder blocks, final RMSNorm, LM head.

    ``forward(ids)`` is a prefill (logits of every prompt position, causal mask of
    ``seq_len``); ``forward(ids, k_0, v_0, k_1, v_1, ...)`` is one decode step against a KV
    cache per layer and returns ``(logits, present k_0, present v_0, ...)``. ``tie`` shares the
    embedding matrix with the LM head.
    """

    def __init__(
        self,
        vocab: int,
        dim: int,
        layers: int,
        heads: int,
        kv_heads: int,
        ffn: int,
        seq_len: int,
        tie: bool = False,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.Sequential(
            *(DecoderBlock(dim, heads, kv_heads, ffn, seq_len) for _ in range(layers))
        )
        self.norm = RMSNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        if tie:
            self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor, *past: torch.Tensor) -> Any:
        if not past:
            return self.head(self.norm(self.blocks(self.embed(ids))))
        x = self.embed(ids)
        present: list[torch.Tensor] = []
        blocks: list[DecoderBlock] = list(self.blocks)  # type: ignore[arg-type]
        for i, block in enumerate(blocks):
            x, k, v = block.decode(x, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return (self.head(self.norm(x)), *present)
