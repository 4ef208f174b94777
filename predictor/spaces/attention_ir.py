"""Graph-IR writers of the zoo's attention layers (see :mod:`predictor.spaces.nets.attention`).

Token tensors are ``(batch, tokens, dim)``; the batch axis holds windows (windowed attention) or
pixel positions within a patch (MobileViT unfold), 1 otherwise.
"""

from __future__ import annotations

from predictor.spaces.irgraph import IRWriter, TensorRef
from predictor.spaces.transformer_ir import layer_norm, matmul, reshape_transpose, transpose_reshape


def mhsa(w: IRWriter, x: TensorRef, kv: TensorRef, heads: int) -> TensorRef:
    """Multi-head attention of ``x``'s queries over ``kv``'s keys and values."""
    b, n, d = w.shape(x)
    m, hd = w.shape(kv)[1], d // heads
    q = reshape_transpose(w, w.linear(x, d), (b, n, heads, hd), (0, 2, 1, 3))
    k = reshape_transpose(w, w.linear(kv, d), (b, m, heads, hd), (0, 2, 3, 1))
    v = reshape_transpose(w, w.linear(kv, d), (b, m, heads, hd), (0, 2, 1, 3))
    scores = w.scalar("Mul", matmul(w, q, k))
    probs = w.node("Softmax", (scores,), w.shape(scores), attrs={"axis": 3})
    return w.linear(transpose_reshape(w, matmul(w, probs, v), (0, 2, 1, 3), (b, n, d)), d)


def mlp(w: IRWriter, x: TensorRef, hidden: int) -> TensorRef:
    """Linear -> GELU -> Linear back to the input width."""
    h = w.unary("Gelu", w.linear(x, hidden), {"approximate": "none"})
    return w.linear(h, w.shape(x)[-1])


def tokens(w: IRWriter, x: TensorRef) -> TensorRef:
    """``(1, C, H, W)`` map -> ``(1, H*W, C)`` tokens (flatten, transpose)."""
    _, c, h, wd = w.shape(x)
    return reshape_transpose(w, x, (1, c, h * wd), (0, 2, 1))


def image(w: IRWriter, x: TensorRef, hw: tuple[int, int]) -> TensorRef:
    """``(1, H*W, C)`` tokens -> ``(1, C, H, W)`` map (transpose, reshape)."""
    c = w.shape(x)[-1]
    return transpose_reshape(w, x, (0, 2, 1), (1, c, *hw))


def token_block(
    w: IRWriter,
    x: TensorRef,
    heads: int,
    mlp_ratio: int,
    pool: int = 1,
    grid: tuple[int, int] = (0, 0),
) -> TensorRef:
    """Pre-norm block; ``pool > 1``: keys/values from a ``pool x pool`` strided conv of the token
    map (``grid``), LayerNorm'ed (pooled-key attention)."""
    y = layer_norm(w, x)
    kv = y
    if pool > 1:
        kv = layer_norm(w, tokens(w, w.conv(image(w, y, grid), w.shape(y)[-1], pool, pool, pad=0)))
    x = w.add(x, mhsa(w, y, kv, heads))
    return w.add(x, mlp(w, layer_norm(w, x), w.shape(x)[-1] * mlp_ratio))


def window_block(
    w: IRWriter, x: TensorRef, heads: int, mlp_ratio: int, grid: tuple[int, int], window: int
) -> TensorRef:
    """Pre-norm block attending within non-overlapping ``window x window`` windows."""
    _, _, c = w.shape(x)
    h, wd = grid
    nh, nw = h // window, wd // window
    if nh * nw == 1:  # one window: the partition is a chain of reshapes the importer drops
        x = w.add(x, mhsa(w, *(layer_norm(w, x),) * 2, heads))
        return w.add(x, mlp(w, layer_norm(w, x), c * mlp_ratio))
    y = reshape_transpose(w, layer_norm(w, x), (1, nh, window, nw, window, c), (0, 1, 3, 2, 4, 5))
    y = w.reshape(y, (nh * nw, window * window, c))
    y = mhsa(w, y, y, heads)
    y = reshape_transpose(w, y, (1, nh, nw, window, window, c), (0, 1, 3, 2, 4, 5))
    x = w.add(x, w.reshape(y, (1, h * wd, c)))
    return w.add(x, mlp(w, layer_norm(w, x), c * mlp_ratio))


def unfold(w: IRWriter, x: TensorRef, patch: int) -> TensorRef:
    """MobileViT unfold: ``(1, d, H, W)`` -> ``(p*p, H*W/(p*p), d)``."""
    _, d, h, wd = w.shape(x)
    y = reshape_transpose(w, x, (1, d, h // patch, patch, wd // patch, patch), (0, 3, 5, 2, 4, 1))
    return w.reshape(y, (patch * patch, (h // patch) * (wd // patch), d))


def fold(w: IRWriter, x: TensorRef, patch: int, hw: tuple[int, int]) -> TensorRef:
    """Inverse of :func:`unfold`."""
    d = w.shape(x)[-1]
    h, wd = hw
    y = reshape_transpose(w, x, (1, patch, patch, h // patch, wd // patch, d), (0, 5, 3, 1, 4, 2))
    return w.reshape(y, (1, d, h, wd))


def window_for(grid: int, window: int) -> int:
    """The largest window side at most ``window`` that tiles a ``grid``-wide map."""
    return max(d for d in range(1, min(grid, window) + 1) if grid % d == 0)
