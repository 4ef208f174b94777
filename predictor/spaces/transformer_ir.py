"""Graph-IR writers for transformer layers, mirroring :mod:`predictor.spaces.nets.transformer`.

Each function emits the canonical nodes :func:`predictor.ir.ir_from_onnx` produces for the torch
layer exported with the TorchScript exporter, in the same order.
"""

from __future__ import annotations

from predictor.spaces.irgraph import IRWriter, TensorRef, moves_only_unit_axes, tspec


def layer_norm(w: IRWriter, x: TensorRef) -> TensorRef:
    """``LayerNormalization`` over the last axis (scale and bias weights)."""
    shape = w.shape(x)
    d = tspec((shape[-1],))
    return w.node("LayerNormalization", (x,), shape, (d, d), {"axis": len(shape) - 1})


def rms_norm(w: IRWriter, x: TensorRef) -> TensorRef:
    """``x / sqrt(mean(x^2) + eps) * weight`` as exported (the mean imports as a global pool)."""
    shape = w.shape(x)
    reduced = (*shape[:-1], 1)
    r = w.scalar("Pow", x)
    r = w.node("GlobalAveragePool", (r,), reduced)
    y = w.binary("Div", x, w.unary("Sqrt", w.scalar("Add", r)))
    return w.node("Mul", (y,), shape, (tspec((shape[-1],)),))


def matmul(w: IRWriter, a: TensorRef, b: TensorRef) -> TensorRef:
    """Batched ``MatMul`` of two activations with broadcast batch axes."""
    sa, sb = w.shape(a), w.shape(b)
    batch = tuple(max(x, y) for x, y in zip(sa[:-2], sb[:-2], strict=True))
    return w.node("MatMul", (a, b), (*batch, sa[-2], sb[-1]))


def reshape_transpose(
    w: IRWriter, x: TensorRef, shape: tuple[int, ...], perm: tuple[int, ...]
) -> TensorRef:
    """``x.reshape(shape).permute(perm)`` as imported: a transpose that only moves unit axes
    is a reshape and merges with the one before it."""
    if moves_only_unit_axes(shape, perm):
        return w.reshape(x, tuple(shape[p] for p in perm))
    return w.transpose(w.reshape(x, shape), perm)


def transpose_reshape(
    w: IRWriter, x: TensorRef, perm: tuple[int, ...], shape: tuple[int, ...]
) -> TensorRef:
    """``x.permute(perm).reshape(shape)`` as imported (see :func:`reshape_transpose`)."""
    if moves_only_unit_axes(w.shape(x), perm):
        return w.reshape(x, shape)
    return w.reshape(w.transpose(x, perm), shape)


def attention(
    w: IRWriter, x: TensorRef, heads: int, kv_heads: int, bias: bool, causal: bool
) -> TensorRef:
    """Grouped-query attention as :class:`predictor.spaces.nets.transformer.Attention`."""
    _, n, dim = w.shape(x)
    hd, group = dim // heads, heads // kv_heads
    q = reshape_transpose(w, w.linear(x, dim, bias), (1, n, kv_heads, group, hd), (0, 2, 3, 1, 4))
    k = w.linear(x, kv_heads * hd, bias)
    k = reshape_transpose(w, k, (1, n, kv_heads, 1, hd), (0, 2, 3, 4, 1))
    v = w.linear(x, kv_heads * hd, bias)
    v = reshape_transpose(w, v, (1, n, kv_heads, 1, hd), (0, 2, 3, 1, 4))
    scores = w.scalar("Mul", matmul(w, q, k))
    if causal:
        scores = w.node("Add", (scores,), w.shape(scores), (tspec((n, n)),))
    probs = w.node("Softmax", (scores,), w.shape(scores), attrs={"axis": 4})
    out = transpose_reshape(w, matmul(w, probs, v), (0, 3, 1, 2, 4), (1, n, dim))
    return w.linear(out, dim, bias)


def encoder_block(w: IRWriter, x: TensorRef, heads: int, mlp: int) -> TensorRef:
    """Pre-norm ViT block (LayerNorm, attention, LayerNorm, GELU MLP, residuals)."""
    dim = w.shape(x)[-1]
    x = w.add(x, attention(w, layer_norm(w, x), heads, heads, bias=True, causal=False))
    h = w.unary("Gelu", w.linear(layer_norm(w, x), mlp), {"approximate": "none"})
    return w.add(x, w.linear(h, dim))


def decoder_block(w: IRWriter, x: TensorRef, heads: int, kv_heads: int, ffn: int) -> TensorRef:
    """RMSNorm-GQA causal attention and RMSNorm-SwiGLU feed-forward, residuals."""
    x = w.add(x, attention(w, rms_norm(w, x), heads, kv_heads, bias=False, causal=True))
    return ffn_residual(w, x, ffn)


def ffn_residual(w: IRWriter, x: TensorRef, ffn: int) -> TensorRef:
    """RMSNorm-SwiGLU feed-forward with its residual."""
    dim = w.shape(x)[-1]
    h = rms_norm(w, x)
    gate = w.linear(h, ffn, bias=False)
    gate = w.binary("Mul", gate, w.unary("Sigmoid", gate))
    hidden = w.binary("Mul", gate, w.linear(h, ffn, bias=False))
    return w.add(x, w.linear(hidden, dim, bias=False))


def cached_attention(
    w: IRWriter, x: TensorRef, heads: int, kv_heads: int, past_k: TensorRef, past_v: TensorRef
) -> tuple[TensorRef, TensorRef, TensorRef]:
    """One decode step of :meth:`predictor.spaces.nets.transformer.Attention.decode`.

    Returns the attention output and the grown key and value caches.
    """
    dim = w.shape(x)[-1]
    hd, group = dim // heads, heads // kv_heads
    _, _, context, _ = w.shape(past_k)
    q = w.reshape(w.linear(x, dim, bias=False), (1, kv_heads, group, 1, hd))
    grown = (1, kv_heads, context + 1, hd)
    k_new = w.reshape(w.linear(x, kv_heads * hd, bias=False), (1, kv_heads, 1, hd))
    k = w.node("Concat", (past_k, k_new), grown, attrs={"axis": 2})
    k_t = w.reshape(w.transpose(k, (0, 1, 3, 2)), (1, kv_heads, 1, hd, context + 1))
    scores = w.scalar("Mul", matmul(w, q, k_t))
    probs = w.node("Softmax", (scores,), w.shape(scores), attrs={"axis": 4})
    v_new = w.reshape(w.linear(x, kv_heads * hd, bias=False), (1, kv_heads, 1, hd))
    v = w.node("Concat", (past_v, v_new), grown, attrs={"axis": 2})
    out = matmul(w, probs, w.reshape(v, (1, kv_heads, 1, context + 1, hd)))
    return w.linear(w.reshape(out, (1, 1, dim)), dim, bias=False), k, v


def cached_decoder_block(
    w: IRWriter,
    x: TensorRef,
    heads: int,
    kv_heads: int,
    ffn: int,
    past: tuple[TensorRef, TensorRef],
) -> tuple[TensorRef, TensorRef, TensorRef]:
    """:func:`decoder_block` for one token against a KV cache; returns it and the grown cache."""
    out, k, v = cached_attention(w, rms_norm(w, x), heads, kv_heads, *past)
    return ffn_residual(w, w.add(x, out), ffn), k, v
