"""scaled_dot_product_attention: one fused node, forward and backward side by side.

    s = scale * q @ k^T (+ float mask, or -inf where a bool mask is False)
    p = softmax(s, -1)     (a row with every key masked gives zeros, as torch's math kernel)
    o = (p * dropout_noise) @ v

Backward saves the softmax probabilities ``p`` (not ``s``) and the dropout noise.
"""

from __future__ import annotations

import math

from .. import _dtype as _D
from .._backends import _workspace as _ws
from .._device import backend as _backend
from .._tensor import Tensor
from ._op import Op, sum_to_shape
from .linalg import matmul_arrays

__all__ = ["scaled_dot_product_attention"]


def _t(a):
    return a.swapaxes(-1, -2)



def _ungroup(g, rep):
    """Sum a gradient of keys/values repeated ``rep`` times along the head axis (GQA)."""
    if rep == 1:
        return g
    s = g.shape
    return g.reshape(s[:-3] + (s[-3] // rep, rep) + s[-2:]).sum(axis=-3)


class ScaledDotProductAttention(Op):
    node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, noise, scale, rep):
        xp = ctx.xp
        ctx.shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        ctx.scale, ctx.rep = scale, rep
        if rep != 1:
            k = xp.repeat(k, rep, axis=-3)
            v = xp.repeat(v, rep, axis=-3)
        s = matmul_arrays(q, _t(k))
        s *= scale
        if mask is not None:
            if mask.dtype == bool:
                s = xp.where(mask, s, -math.inf)
            else:
                s = s + mask
        if s.size:
            m = s.max(axis=-1, keepdims=True)
            if mask is not None:
                m[m == -math.inf] = 0  # a fully masked row: exp gives zeros, not NaN
            s -= m
            xp.exp(s, out=s)
            d = s.sum(axis=-1, keepdims=True)
            if mask is not None:
                d[d == 0] = 1
            s /= d
        p = s
        pd = p if noise is None else p * noise
        out = matmul_arrays(pd, v)
        ctx.save_for_backward(q, k, v, p, noise)
        ctx.float_mask = mask is not None and mask.dtype != bool
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v, p, noise = ctx.saved
        sq, sk, sv, sm = ctx.shapes
        n = ctx.needs_input_grad
        rep, scale = ctx.rep, ctx.scale
        gq = gk = gv = gm = None
        xp = ctx.xp
        pd = p if noise is None else p * noise
        if n[2]:
            gv = sum_to_shape(_ungroup(_t(pd) @ g, rep) if rep != 1 else matmul_arrays(_t(pd), g), sv)
        if n[0] or n[1] or (n[3] and ctx.float_mask):
            dp = matmul_arrays(g, _t(v), temporary=True)
            if noise is not None:
                dp *= noise
            ds = _ws.arith(xp, xp.subtract, dp, _ws.arith(
                xp, xp.multiply, dp, p, temporary=True).sum(axis=-1, keepdims=True))
            ds *= p
            if n[3] and ctx.float_mask:
                gm = sum_to_shape(ds, sm)
                ds = ds * scale  # gm may be ds itself: no in-place scaling
            else:
                ds *= scale
            if n[0]:
                gq = sum_to_shape(matmul_arrays(ds, k), sq)
            if n[1]:
                gk = sum_to_shape(_ungroup(_t(ds) @ q, rep), sk)
        return gq, gk, gv, gm, None, None, None


_CAUSAL = {}


def _broadcast_shapes(*shapes):
    import numpy as np

    return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def _causal_mask(xp, L, S):
    key = (id(xp), L, S)
    m = _CAUSAL.get(key)
    if m is None:
        m = xp.tril(xp.ones((L, S), dtype=bool))
        if len(_CAUSAL) > 64:
            _CAUSAL.clear()
        _CAUSAL[key] = m
    return m


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) (dropped out with ``dropout_p``) @ v, one autograd node.

    ``attn_mask``: bool (True = take part in attention) or float (added to the scores),
    broadcastable to (..., L, S). ``is_causal``: a lower-triangular (top-left) bool mask.
    ``enable_gqa``: key/value may have fewer heads (dim -3) than query, which then share them.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    qs, ks, vs = query._data.shape, key._data.shape, value._data.shape
    if len(qs) < 2 or len(ks) < 2 or len(vs) < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at "
                           f"least 2-D, got {tuple(qs)}, {tuple(ks)} and {tuple(vs)}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    if qs[-1] != ks[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query's last dim ({qs[-1]}) must "
                           f"equal key's last dim ({ks[-1]})")
    if ks[-2] != vs[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key has {ks[-2]} positions but "
                           f"value has {vs[-2]}")
    rep = 1
    if len(qs) >= 3 and len(ks) >= 3 and qs[-3] != ks[-3]:
        if not enable_gqa:
            raise RuntimeError(f"scaled_dot_product_attention: query has {qs[-3]} heads but key "
                               f"has {ks[-3]}; pass enable_gqa=True for grouped-query attention")
        if ks[-3] != vs[-3] or qs[-3] % ks[-3]:
            raise RuntimeError("scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({qs[-3]}) must be a multiple of the key/value "
                               f"heads ({ks[-3]}, {vs[-3]})")
        rep = qs[-3] // ks[-3]
    L, S = qs[-2], ks[-2]
    dev = query._device
    xp = _backend(dev).xp
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        mask = _causal_mask(xp, L, S)
    elif attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError("scaled_dot_product_attention(): argument 'attn_mask' must be "
                            f"Tensor, not {type(attn_mask).__name__}")
        mask = attn_mask
        if mask.dtype is not _D.bool and mask.dtype != query.dtype:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {mask.dtype} and "
                               f"query.dtype: {query.dtype} instead.")
    if scale is None:
        scale = 1.0 / math.sqrt(qs[-1])
    noise = None
    if dropout_p > 0.0:
        from ..random import generator_for

        kb = ks[:-2] if rep == 1 else ks[:-3] + (ks[-3] * rep,)
        shape = _broadcast_shapes(qs[:-2], kb) + (L, S)
        if mask is not None:
            shape = _broadcast_shapes(shape, mask.shape)
        if dropout_p >= 1.0:
            noise = xp.zeros(shape, dtype=query._data.dtype)
        else:
            # torch's math kernel: dropout of the (fresh, contiguous) attention weights
            noise = generator_for(dev, None)._bernoulli_shape(shape, 1.0 - dropout_p,
                                                              query._data.dtype)
            noise /= 1.0 - dropout_p
    return ScaledDotProductAttention.apply(query, key, value, mask, noise, float(scale), rep)
