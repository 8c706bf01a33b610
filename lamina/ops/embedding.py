"""Embedding lookups: embedding, embedding_bag (sum / mean / max) and max-norm renormalization.

The backward of a lookup adds rows of the output gradient into the rows of the weight they
came from, with repeated indices summed. ``rows_add`` does that with one stable sort and one
``add.reduceat`` (NumPy), which is faster than ``np.add.at``; backends without ``reduceat``
fall back to ``add.at``.
"""

from __future__ import annotations

from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from ._op import Op
from ._registry import register


def rows_add(xp, target, idx, vals):
    """``target[idx[i]] += vals[i]`` for each i, repeated indices summed (idx 1-D)."""
    if idx.size == 0:
        return
    reduceat = getattr(xp.add, "reduceat", None)
    if reduceat is None:
        xp.add.at(target, idx, vals)
        return
    order = xp.argsort(idx, kind="stable")
    s = idx[order]
    first = xp.empty(s.shape, bool)
    first[0] = True
    xp.not_equal(s[1:], s[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    target[s[starts]] += reduceat(vals[order], starts, axis=0)


def _check_indices(name, input, n):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{input.type()} instead (while checking arguments for {name})")
    a = input._data
    if a.size and (int(a.min()) < 0 or int(a.max()) >= n):
        raise IndexError("index out of range in self")


def _padding_idx(padding_idx, n):
    if padding_idx is None:
        return None
    padding_idx = int(padding_idx)
    if padding_idx >= n or padding_idx < -n:
        # torch raises AssertionError here; raised explicitly so that python -O keeps it
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + n if padding_idx < 0 else padding_idx


def embedding_renorm_(weight, input, max_norm, norm_type=2.0):
    """Rescale, in place, the rows of ``weight`` used by ``input`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm ``max_norm`` (torch's ``embedding_renorm_``)."""
    from .._device import backend

    xp = backend(weight._device).xp
    w = weight._data
    rows = xp.unique(input._data.reshape(-1))
    if rows.size == 0:
        return weight
    sel = w[rows]
    p = float(norm_type)
    if p == 2.0:
        norms = xp.sqrt((sel * sel).sum(axis=1))
    elif p == 1.0:
        norms = xp.abs(sel).sum(axis=1)
    elif p == float("inf"):
        norms = xp.abs(sel).max(axis=1)
    else:
        norms = (xp.abs(sel) ** p).sum(axis=1) ** (1.0 / p)
    big = norms > max_norm
    if bool(big.any()):
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] = sel[big] * scale[:, None]
        weight._version_counter[0] += 1
    return weight


class Embedding(Op):
    """``weight[indices]``; the gradient skips ``padding_idx`` and can be scaled by the
    inverse frequency of each index in the batch."""

    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        if ctx.needs_input_grad is not None:
            ctx.idx = idx
            ctx.wshape = w.shape
            ctx.opts = (padding_idx, scale_grad_by_freq)
        return ctx.xp.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        padding_idx, freq = ctx.opts
        flat = ctx.idx.reshape(-1)
        g2 = g.reshape(-1, ctx.wshape[1])
        if freq:
            counts = xp.bincount(flat, minlength=ctx.wshape[0])
            g2 = g2 / counts[flat][:, None].astype(g2.dtype)
        if padding_idx is not None:
            keep = flat != padding_idx
            flat = flat[keep]
            g2 = g2[keep]
        gw = xp.zeros(ctx.wshape, g.dtype)
        rows_add(xp, gw, flat, g2)
        return gw, None, None, None


def _no_sparse(name, sparse):
    if sparse:
        raise RuntimeError(f"{name}: sparse=True needs sparse gradients, which lamina does not "
                           f"have; use sparse=False (dense gradients)")


def _lookup_args(name, input, weight, padding_idx):
    """Check the indices against weight's rows; return padding_idx normalized."""
    n = weight.shape[0]
    padding_idx = _padding_idx(padding_idx, n)
    _check_indices(name, input, n)
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` by the integer ``input``; see ``Embedding``."""
    _no_sparse("embedding", sparse)
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.ndim}-D tensor of shape "
                           f"{list(weight.shape)}")
    padding_idx = _lookup_args("embedding", input, weight, padding_idx)
    if max_norm is not None:
        with no_grad():
            embedding_renorm_(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


# ---------------------------------------------------------------------- embedding bag
class EmbeddingBag(Op):
    """Reduce the embeddings of each bag. ``pos (B, L)`` holds each bag's positions into the
    flat indices (padded), ``valid (B, L)`` which of them count."""

    node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, w, flat, pos, valid, psw, mode, freq):
        xp = ctx.xp
        ids = flat[pos]  # (B, L)
        rows = xp.take(w, ids, axis=0)  # (B, L, D)
        if mode == "max":
            lo = -xp.inf if w.dtype.kind == "f" else xp.iinfo(w.dtype).min
            masked = xp.where(valid[..., None], rows, lo)
            if rows.shape[1] == 0:
                arg = xp.zeros((rows.shape[0], rows.shape[2]), xp.int64)
                out = xp.zeros((rows.shape[0], rows.shape[2]), w.dtype)
            else:
                arg = masked.argmax(axis=1)  # (B, D)
                out = xp.take_along_axis(masked, arg[:, None, :], axis=1)[:, 0]
            empty = ~valid.any(axis=1)
            out[empty] = 0
            coef = None
            ctx.arg = arg
            ctx.empty = empty
        else:
            coef = valid.astype(w.dtype)
            if psw is not None:
                coef = coef * psw[pos]
            if mode == "mean":
                cnt = valid.sum(axis=1, keepdims=True)
                coef = coef / xp.maximum(cnt, 1).astype(w.dtype)
            out = (rows * coef[..., None]).sum(axis=1)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(w if ctx.needs_input_grad[4] else None)
            ctx.geom = (ids, pos, valid, coef, mode, freq, w.shape, flat)
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        ids, pos, valid, coef, mode, freq, wshape, flat = ctx.geom
        need = ctx.needs_input_grad
        gw = gpsw = None
        scale = None
        if freq:
            counts = xp.bincount(flat, minlength=wshape[0]).astype(g.dtype)
            scale = 1.0 / xp.maximum(counts[ids], 1)
        if need[0]:
            gw = xp.zeros(wshape, g.dtype)
            if mode == "max":
                b, d = g.shape
                win = xp.take_along_axis(ids, ctx.arg, axis=1)  # (B, D) row ids
                gv = g
                if scale is not None:
                    gv = g * xp.take_along_axis(scale, ctx.arg, axis=1)
                keep = ~ctx.empty[:, None] & xp.ones((1, d), bool)
                cells = (win * d + xp.arange(d)[None, :])[keep]
                rows_add(xp, gw.reshape(-1, 1), cells, gv[keep][:, None])
            else:
                c = coef if scale is None else coef * scale
                contrib = g[:, None, :] * c[..., None]  # (B, L, D)
                m = valid
                rows_add(xp, gw, ids[m], contrib[m])
        if need[4]:
            (w,) = ctx.saved
            rows = xp.take(w, ids, axis=0)
            val = (rows * g[:, None, :]).sum(axis=2)  # (B, L)
            gpsw = xp.zeros(flat.shape, g.dtype)
            gpsw[pos[valid]] = val[valid]
        return gw, None, None, None, gpsw, None, None


_MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of bags of embeddings without materializing each lookup first;
    see ``EmbeddingBag``."""
    from .._device import backend

    _no_sparse("embedding_bag", sparse)
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    padding_idx = _lookup_args("embedding_bag", input, weight, padding_idx)
    xp = backend(weight._device).xp
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    a = input._data
    if a.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        b, length = a.shape
        flat = a.reshape(-1)
        pos = xp.arange(b * length).reshape(b, length)
        valid = xp.ones((b, length), bool)
    elif a.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._data.astype(xp.int64)
        if off.size == 0:
            raise RuntimeError("embedding_bag: offsets must not be empty")
        if int(off[0]) != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got "
                               f"{int(off[0])}")
        m = a.shape[0]
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts = off
            ends = xp.concatenate([off[1:], xp.asarray([m], dtype=xp.int64)])
        if bool((ends < starts).any()) or int(ends.max(initial=0)) > m:
            raise RuntimeError(f"embedding_bag: offsets must be non-decreasing and at most the "
                               f"number of indices ({m}); got {offsets.tolist()}")
        flat = a
        lens = ends - starts
        length = int(lens.max(initial=0))
        ar = xp.arange(length)
        valid = ar[None, :] < lens[:, None]
        pos = xp.where(valid, starts[:, None] + ar[None, :], 0)
        if m == 0:
            flat = xp.zeros((1,), a.dtype)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{a.ndim}")
    if padding_idx is not None:
        valid = valid & (flat[pos] != padding_idx)
    psw = None
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)
        if flat.shape[0] != psw.shape[0]:  # empty 1-D input: keep shapes aligned
            psw = None
    if max_norm is not None:
        with no_grad():
            embedding_renorm_(weight, input, max_norm, norm_type)
    out = EmbeddingBag.apply(weight, _make(flat, weight._device), pos, valid, psw, mode,
                             bool(scale_grad_by_freq))
    return out


# the public names of this module's ops (ops/_registry.py): nn.functional.X
for _fn in (embedding, embedding_bag):
    register(_fn, function=False, method=False, functional=True)
