"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d, one N-d implementation.

A convolution is im2col plus one matrix product. The column matrix is laid out as
``(C, *kernel, N, *out)``: a sliding-window view of the padded input, made contiguous with one
copy, so that ``weight (O, C*K) @ cols (C*K, N*P)`` is a single GEMM over the whole batch
(NumPy's stacked matmul calls BLAS once per matrix, which is slow for small images and under
thread contention). Its backward is two more GEMMs; the input gradient goes back through
``col2im``, which accumulates one strided slice per kernel tap (a loop over the ``kh*kw`` taps,
never over pixels, batch items or channels, and no ``add.at``).

A transposed convolution is the input gradient of a convolution with the same weight, and its
backward is that convolution: both directions share ``_im2col`` / ``_col2im``.

Stride-1 convolutions take a faster path (``conv_forward_flat``): the input is laid out as
flat channel rows in which consecutive rows and images share their zero padding, so every
kernel tap reads the same rows at a constant shift; the column matrix is then one strided
copy, the bias rides in the GEMM as a row of ones, and the input gradient is a GEMM on shifted
rows of the output gradient (or the per-tap rows accumulated at their shifts).

A third layout, ``batch_last`` (``conv_forward_batch_last``), is im2col with the batch as the
innermost axis, ``(C, *S, N)``: its column copy and input-gradient accumulation move runs of
``ow * N`` values, which pays on small images with many channels; it is a candidate of the
timed choice only (``choose_algorithm``).

When the column matrix of a whole batch would exceed ``COLS_BUDGET`` bytes, the batch is
processed in chunks, so the memory of im2col stays bounded (``batch_last`` is not chunked: it
is not taken past that budget).
"""

from __future__ import annotations

import itertools
import threading
import time
from contextlib import contextmanager

from .._backends import _workspace as _ws
from .._tensor import Tensor
from ._op import Op
from ._registry import register

COLS_BUDGET = 64 * 2**20
"""Bytes a column matrix may take before the batch is split into chunks."""

SAVE_COLS_BYTES = 64 * 2**20
"""Forward keeps its column matrix for the weight gradient when it is at most this big;
larger ones are rebuilt in backward (an im2col copy costs far less than the GEMMs)."""


# ---------------------------------------------------------------------- array helpers
def _sliding_windows(xp, x, window, axes):
    """``sliding_window_view`` (NumPy, recent CuPy) with an ``as_strided`` fallback."""
    st = xp.lib.stride_tricks
    f = getattr(st, "sliding_window_view", None)
    if f is not None:
        return f(x, window, axis=axes)
    shape = list(x.shape)
    strides = list(x.strides)
    extra_shape, extra_strides = [], []
    for w, a in zip(window, axes):
        shape[a] -= w - 1
        extra_shape.append(w)
        extra_strides.append(x.strides[a])
    return st.as_strided(x, tuple(shape + extra_shape), tuple(strides + extra_strides))


def windows(xp, x, k, s, d, osp, first=2):
    """Read-only view ``(*lead, *osp, *k)`` of the windows of ``x`` over its spatial axes
    ``first, first+1, ...``: window ``o`` starts at ``o*s`` and takes every ``d``-th element."""
    nd = len(k)
    eff = tuple(d[i] * (k[i] - 1) + 1 for i in range(nd))
    v = _sliding_windows(xp, x, eff, tuple(range(first, first + nd)))
    sl = (slice(None),) * first
    sl += tuple(slice(0, (osp[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
    sl += tuple(slice(None, None, d[i]) for i in range(nd))
    return v[sl]


def _im2col(xp, x, k, s, d, osp, fresh=True):
    """``x (N, C, *S)`` (already padded) -> contiguous columns ``(C, *k, N, *osp)``;
    ``fresh=False``: in a work buffer (``_backends._workspace``), never to be returned."""
    nd = len(k)
    v = windows(xp, x, k, s, d, osp)  # (N, C, *osp, *k)
    perm = (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))
    v = v.transpose(perm)
    out = (_ws.result if fresh else _ws.empty)(xp, v.shape, v.dtype)
    out[...] = v
    return out


def _col2im(xp, cols, shape, k, s, d, osp, fresh=True):
    """Adjoint of ``_im2col``: ``cols (C, *k, N, *osp)`` -> ``(C, N, *S)`` of ``shape``,
    summing overlapping windows; one strided-slice accumulation per kernel tap
    (``fresh=False``: in a work buffer)."""
    out = (_ws.result_zeros if fresh else _ws.zeros)(xp, shape, cols.dtype)
    nd = len(k)
    for tap in itertools.product(*[range(ki) for ki in k]):
        sl = (slice(None), slice(None)) + tuple(
            slice(tap[i] * d[i], tap[i] * d[i] + (osp[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
        out[sl] += cols[(slice(None),) + tap]
    return out


def _pad0(xp, x, pads, fresh=True):
    """Zero-pad the spatial axes of ``x (N, C, *S)`` by ``pads`` ((lo, hi) per axis)
    (``fresh=False``: in a work buffer)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    out = (_ws.result_zeros if fresh else _ws.zeros)(xp, shape, x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + n)
                                           for n, (lo, _) in zip(x.shape[2:], pads))] = x
    return out


def _crop(x, pads, first=2):
    if not any(lo or hi for lo, hi in pads):
        return x
    return x[(slice(None),) * first + tuple(slice(lo, x.shape[first + i] - hi)
                                            for i, (lo, hi) in enumerate(pads))]


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p


def _chunk(n, per_item_bytes):
    """Batch items per chunk so that one chunk's column matrix fits in COLS_BUDGET."""
    if per_item_bytes <= 0:
        return max(n, 1)
    return max(1, min(max(n, 1), COLS_BUDGET // per_item_bytes))


def _to_nc(xp, y, out, bias, batch_last=False):
    """Store ``y (O, n, *sp)``, or ``(O, *sp, n)`` with ``batch_last``, into ``out (n, O, *sp)``
    (one transposed copy), adding bias."""
    nd = y.ndim - 2
    yt = y.transpose((nd + 1,) + tuple(range(nd + 1)) if batch_last
                     else (1, 0) + tuple(range(2, 2 + nd)))
    if bias is not None:
        xp.add(yt, bias.reshape((-1,) + (1,) * nd), out=out)
    else:
        out[...] = yt


def _gemm(xp, a, b):
    """Grouped product ``(g, m, k) @ (g, k, n)`` into a work buffer (the callers copy or
    accumulate it); one plain GEMM when ``g == 1``."""
    out = _ws.empty(xp, (a.shape[0], a.shape[1], b.shape[2]), xp.result_type(a, b))
    if a.shape[0] == 1:
        xp.matmul(a[0], b[0], out=out[0])
    else:
        xp.matmul(a, b, out=out)
    return out


def _cn(xp, x, g):
    """``x (n, C, *sp)`` -> contiguous ``(g, C/g, n*P)`` (channels first, grouped; a work
    buffer unless ``x`` is laid out so already)."""
    nd = x.ndim - 2
    xt = x.transpose((1, 0) + tuple(range(2, 2 + nd)))
    if not xt.flags.c_contiguous:
        buf = _ws.empty(xp, xt.shape, xt.dtype)
        buf[...] = xt
        xt = buf
    return xt.reshape(g, x.shape[1] // g, -1)


# ---------------------------------------------------------------------- convolution
def conv_forward(xp, x, w, b, s, pads, d, groups, keep_cols=False):
    """Convolution on arrays. ``x (N, C, *S)``, ``w (O, C/groups, *k)``, ``pads`` (lo, hi)
    per axis. Returns ``(out, xpad, cols)``; ``cols`` is the whole-batch column matrix when
    ``keep_cols`` and it fits, else None (``xpad`` and ``cols`` are work buffers)."""
    xpad = _pad0(xp, x, pads, False)
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    sp = xpad.shape[2:]
    osp = tuple((sp[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(len(k)))
    p = _prod(osp)
    ck = c // groups * _prod(k)
    w2 = w.reshape(groups, o // groups, ck)
    out = _ws.result(xp, (n, o) + osp, x.dtype)
    per = c * _prod(k) * p * x.itemsize
    nb = _chunk(n, per)
    cols = None
    keep = keep_cols and nb >= n and per * n <= SAVE_COLS_BYTES
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cl = _im2col(xp, xpad[n0:n1], k, s, d, osp, False).reshape(groups, ck, (n1 - n0) * p)
        y = _gemm(xp, w2, cl).reshape((o, n1 - n0) + osp)
        _to_nc(xp, y, out[n0:n1], b)
        if keep:
            cols = cl
        del cl, y  # the next chunk reuses these work buffers
    return out, xpad, cols


# ---------------------------------------------------------------------- stride-1 fast path
FLAT_MIN_FILL = 0.5
"""The flat path computes the output at every position of the flat layout; it is taken when
the valid outputs are at least this share of them (else the wasted GEMM work outweighs the
faster copies)."""


def flat_extent(sp, pads, k, d):
    """Per-axis extent of one image in the flat layout, and the output size.

    An input row of ``W`` values is followed by ``max(lo, hi)`` zeros that serve as the right
    padding of this row and the left padding of the next one (likewise for every axis, images
    included), so the layout wastes less than a separately padded ``W + lo + hi``. Returns
    ``(ext, osp)``; ``ext`` is never smaller than the output, so output positions are distinct.
    """
    osp = tuple(sp[i] + lo + hi - d[i] * (k[i] - 1) for i, (lo, hi) in enumerate(pads))
    ext = tuple(max(sp[i] + max(lo, hi), osp[i]) for i, (lo, hi) in enumerate(pads))
    return ext, osp


def use_flat(s, ext, osp) -> bool:
    """Stride-1 convolutions whose valid outputs fill most of the flat layout ``ext``."""
    return all(v == 1 for v in s) and _prod(osp) >= FLAT_MIN_FILL * _prod(ext)


def _row_strides(ext):
    st = [1] * len(ext)
    for i in range(len(ext) - 2, -1, -1):
        st[i] = st[i + 1] * ext[i + 1]
    return st


def _strided(xp, buf, start, shape, strides):
    """Strided view of the C-contiguous ``buf`` from flat element ``start`` (the caller keeps
    it inside ``buf``). NumPy: an ``ndarray`` on the buffer, several times cheaper than
    ``as_strided``, which this path calls a few times per convolution."""
    if xp.__name__ == "numpy" and buf.flags.c_contiguous:
        return xp.ndarray(shape, buf.dtype, buf, start * buf.itemsize, strides)
    return xp.lib.stride_tricks.as_strided(buf.reshape(-1)[start:], shape, strides)


class _Flat:
    """Geometry of the flat layout: per image ``P = prod(ext)`` positions; input value
    ``x[n, c, i]`` sits at ``lead + n*P + sum(i*st)`` of channel row ``c``; the output at
    ``q = n*P + sum(o*st)`` reads tap ``t`` at ``q + off[t]`` (``lead`` = the left padding's
    flat size, so padded reads land on zeros)."""

    __slots__ = ("ext", "lead", "offmax", "osp", "per", "sp", "st", "taps")

    def __init__(self, sp, pads, k, d):
        self.sp = tuple(sp)
        self.ext, self.osp = flat_extent(sp, pads, k, d)
        self.st = _row_strides(self.ext)
        self.per = _prod(self.ext)
        self.lead = sum(lo * self.st[i] for i, (lo, _) in enumerate(pads))
        self.offmax = sum(d[i] * (k[i] - 1) * self.st[i] for i in range(len(k)))
        self.taps = tuple(d[i] * self.st[i] for i in range(len(k)))  # per-axis tap step

    def grid(self, xp, buf, start, n, size):
        """View ``(rows, n, *size)`` of the contiguous flat rows ``buf (rows, len)`` from
        ``start``."""
        it = buf.itemsize
        return _strided(xp, buf, start, (buf.shape[0], n) + tuple(size),
                        (buf.strides[0], self.per * it) + tuple(v * it for v in self.st))

    def taps_view(self, xp, buf, start, k, length):
        """View ``(rows, *k, length)`` of the contiguous ``buf``: tap ``t`` of row ``r`` is
        ``buf[r, start+off(t):]``."""
        it = buf.itemsize
        return _strided(xp, buf, start, (buf.shape[0],) + tuple(k) + (length,),
                        (buf.strides[0],) + tuple(v * it for v in self.taps) + (it,))

    def input_rows(self, xp, x):
        """``x (n, C, *S)`` -> zero-filled flat rows ``(C, len)`` holding ``x`` (one copy, in a
        work buffer)."""
        n, c = x.shape[:2]
        length = n * self.per
        buf = _ws.zeros(xp, (c, max(length + self.offmax, self.lead + length)), x.dtype)
        self.grid(xp, buf, self.lead, n, self.sp)[...] = x.transpose(
            (1, 0) + tuple(range(2, x.ndim)))
        return buf


def _flat_cols(xp, geo, buf, k, n, ones=False):
    """Columns ``(C*K [+1], n*P)`` of the flat rows ``buf``, in a work buffer: tap ``t`` is
    the rows shifted left by its offset, all taps in one strided copy; ``ones`` appends a row
    of ones (the bias folded into the GEMM, whose weight-gradient GEMM then also yields the
    bias gradient)."""
    v = geo.taps_view(xp, buf, 0, k, n * geo.per)
    rows = v.shape[0] * _prod(k)
    shape = (rows + 1 if ones else rows, v.shape[-1])
    out = _ws.empty(xp, shape, v.dtype)
    out[:rows].reshape(v.shape)[...] = v
    if ones:
        out[rows] = 1
    return out


def conv_forward_flat(xp, x, w, b, pads, d, groups, keep_cols=False):
    """Stride-1 convolution by shifted flat rows: with the input laid out as flat channel rows
    (``_Flat``), the input of kernel tap ``t`` for every output position is the same rows
    shifted by a constant offset, so the column matrix is one strided copy, and the output is
    computed at every position of the layout and cropped. Returns ``(out, cols)``."""
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    geo = _Flat(x.shape[2:], pads, k, d)
    kk = _prod(k)
    ck = c // groups * kk
    ones = b is not None and groups == 1
    if ones:  # the bias as one more weight column, against a row of ones in the columns
        w2 = xp.concatenate((w.reshape(o, ck), b.reshape(o, 1)), axis=1)[None]
        ck += 1
        b = None
    else:
        w2 = w.reshape(groups, o // groups, ck)
    out = _ws.result(xp, (n, o) + geo.osp, x.dtype)
    per = c * kk * geo.per * x.itemsize
    nb = _chunk(n, per)
    cols = None
    keep = keep_cols and nb >= n and per * n <= SAVE_COLS_BYTES
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        buf = geo.input_rows(xp, x[n0:n1])
        cl = _flat_cols(xp, geo, buf, k, n1 - n0, ones).reshape(groups, ck, -1)
        y = _gemm(xp, w2, cl).reshape(o, -1)
        _to_nc(xp, geo.grid(xp, y, 0, n1 - n0, geo.osp), out[n0:n1], b)
        if keep:
            cols = cl
        del buf, cl, y  # the next chunk reuses these work buffers
    return out, cols


def conv_backward_flat(xp, g, x, w, cols, pads, d, groups, need):
    """Gradients of ``conv_forward_flat`` (``x`` the input, or its ``_Shape`` when ``cols``
    were kept or only the input gradient is needed). The output gradient is placed in flat
    rows (zeros at unused positions); the weight gradient is one GEMM with the columns; the
    input gradient is a convolution of those rows with the flipped kernel: one strided copy
    of shifted rows and one GEMM."""
    n, o = g.shape[:2]
    c = x.shape[1]
    k = w.shape[2:]
    nd = len(k)
    kk = _prod(k)
    geo = _Flat(x.shape[2:], pads, k, d)
    ck = c // groups * kk
    og = o // groups
    gx = _ws.result(xp, x.shape, g.dtype) if need[0] else None
    gw = xp.zeros((groups, og, ck), g.dtype) if need[1] else None
    # with one group, the bias gradient comes out of the weight-gradient GEMM as the column
    # against the row of ones (forward kept such columns, or they are rebuilt with it)
    ones = need[1] and need[2] and groups == 1 and (cols is None or cols.shape[1] == ck + 1)
    if ones:
        gw = xp.zeros((1, o, ck + 1), g.dtype)
    gb = None
    if need[2] and not ones:
        gb = g.reshape(n, o, -1).sum(axis=2).sum(axis=0) if n else xp.zeros((o,), g.dtype)
    wf = None
    # input gradient: with at most as many output as input channels, a GEMM on shifted copies
    # of the output-gradient rows (flipped kernel); else the GEMM's per-tap rows for C channels
    # accumulate at their shifts (less memory traffic than O*K rows of shifted copies)
    shifted = og <= c // groups
    if gx is not None and not shifted:
        wt = w.reshape(groups, og, ck).transpose(0, 2, 1)
        offs = [sum(t[i] * geo.taps[i] for i in range(nd))
                for t in itertools.product(*[range(v) for v in k])]
    if gx is not None and shifted:  # (groups, C/g, O/g * K): weight of the adjoint, reversed
        flip = (slice(None),) * 3 + (slice(None, None, -1),) * nd
        wf = xp.ascontiguousarray(
            w.reshape((groups, og, c // groups) + tuple(k))[flip].transpose(
                (0, 2, 1) + tuple(range(3, 3 + nd)))).reshape(groups, c // groups, og * kk)
    nb = max(n, 1) if cols is not None else _chunk(n, max(c, o) * kk * geo.per * g.itemsize)
    # the output gradient rows start at ``front``: reads by the reversed taps reach back
    # ``offmax - lead`` before the first output position
    front = max(0, geo.offmax - geo.lead)
    for n0 in range(0, n, nb):
        if gx is None and gw is None:
            break
        n1 = min(n, n0 + nb)
        length = (n1 - n0) * geo.per
        gbuf = _ws.zeros(xp, (o, front + geo.lead + length), g.dtype)
        geo.grid(xp, gbuf, front, n1 - n0, geo.osp)[...] = g[n0:n1].transpose(
            (1, 0) + tuple(range(2, 2 + nd)))
        if gw is not None:
            if cols is not None:
                cl = cols
                if cols.shape[1] != gw.shape[2]:  # columns with a ones row, bias not needed
                    cl = cols[:, :ck]
            else:
                cl = _flat_cols(xp, geo, geo.input_rows(xp, x[n0:n1]), k, n1 - n0,
                                ones).reshape(groups, gw.shape[2], -1)
            gq = gbuf[:, front:front + length].reshape(groups, og, length)
            gw += _gemm(xp, gq, cl.transpose(0, 2, 1))
        if gx is not None and shifted:
            v = geo.taps_view(xp, gbuf, front + geo.lead - geo.offmax, k, length)
            gc = _ws.empty(xp, v.shape, v.dtype)
            gc[...] = v
            gxf = _gemm(xp, wf, gc.reshape(groups, og * kk, length)).reshape(c, length)
            _to_nc(xp, geo.grid(xp, gxf, 0, n1 - n0, geo.sp), gx[n0:n1], None)
        elif gx is not None:
            gq = gbuf[:, front:front + length].reshape(groups, og, length)
            gc = _gemm(xp, wt, gq).reshape(c, kk, length)
            full = _ws.zeros(xp, (c, max(length + geo.offmax, geo.lead + length)), g.dtype)
            for t, off in enumerate(offs):
                full[:, off:off + length] += gc[:, t]
            _to_nc(xp, geo.grid(xp, full, geo.lead, n1 - n0, geo.sp), gx[n0:n1], None)
    if ones:
        gb = xp.ascontiguousarray(gw[0, :, ck])
        gw = gw[0, :, :ck]
    if gw is not None:
        gw = xp.ascontiguousarray(gw).reshape(w.shape)
    return gx, gw, gb


def conv_backward(xp, g, xpad, w, cols, s, pads, d, groups, need):
    """Gradients of ``conv_forward`` w.r.t. (x, w, b) for the flags in ``need``."""
    n, o = g.shape[:2]
    c = xpad.shape[1]
    k = w.shape[2:]
    osp = g.shape[2:]
    p = _prod(osp)
    ck = c // groups * _prod(k)
    w2 = w.reshape(groups, o // groups, ck)
    gx = _ws.result(xp, (n, c) + tuple(xpad.shape[2 + i] - lo - hi for i, (lo, hi) in enumerate(pads)),
                  g.dtype) if need[0] else None
    gw = xp.zeros((groups, o // groups, ck), g.dtype) if need[1] else None
    gb = xp.zeros((o,), g.dtype) if need[2] else None
    nb = _chunk(n, c * _prod(k) * p * g.itemsize)
    if cols is not None:
        nb = max(n, 1)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        g2 = _cn(xp, g[n0:n1], groups)  # (groups, O/groups, nb*P)
        if gb is not None:
            gb += g2.reshape(o, -1).sum(axis=1)
        if gw is not None:
            cl = cols if cols is not None else \
                _im2col(xp, xpad[n0:n1], k, s, d, osp, False).reshape(groups, ck, (n1 - n0) * p)
            gw += _gemm(xp, g2, cl.transpose(0, 2, 1))
        if gx is not None:
            gc = _gemm(xp, w2.transpose(0, 2, 1), g2).reshape((c,) + k + (n1 - n0,) + osp)
            full = _col2im(xp, gc, (c, n1 - n0) + xpad.shape[2:], k, s, d, osp, False)
            _to_nc(xp, _crop(full, pads), gx[n0:n1], None)
    if gw is not None:
        gw = gw.reshape(w.shape)
    return gx, gw, gb


# ---------------------------------------------------------------------- batch-innermost im2col
def _batch_last(xp, x, pads):
    """``x (N, C, *S)`` -> zero-padded ``(C, *Sp, N)`` in a work buffer (one transposing
    copy): the batch is the innermost axis, so every kernel tap's slice of it is made of runs
    of ``ow * N`` contiguous values instead of ``ow``."""
    nd = x.ndim - 2
    sp = tuple(x.shape[2 + i] + lo + hi for i, (lo, hi) in enumerate(pads))
    buf = (_ws.zeros if any(lo or hi for lo, hi in pads) else _ws.empty)(
        xp, (x.shape[1],) + sp + (x.shape[0],), x.dtype)
    inner = (slice(None),) + tuple(slice(lo, lo + x.shape[2 + i])
                                   for i, (lo, _) in enumerate(pads)) + (slice(None),)
    buf[inner] = x.transpose(tuple(range(1, 2 + nd)) + (0,))
    return buf


def _batch_last_cols(xp, xt, k, s, d, osp):
    """Columns ``(C, *k, *osp, N)`` (a work buffer) of the batch-innermost ``xt (C, *Sp, N)``:
    one strided copy."""
    nd = len(k)
    eff = tuple(d[i] * (k[i] - 1) + 1 for i in range(nd))
    v = _sliding_windows(xp, xt, eff, tuple(range(1, 1 + nd)))  # (C, *win, N, *eff)
    sl = (slice(None),) + tuple(slice(0, (osp[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
    sl += (slice(None),) + tuple(slice(None, None, d[i]) for i in range(nd))
    v = v[sl].transpose((0,) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(1, 2 + nd)))
    out = _ws.empty(xp, v.shape, v.dtype)
    out[...] = v
    return out


def batch_last_fits(x, w, s, pads, d):
    """Whether ``batch_last`` can take this convolution: its whole-batch column matrix (it
    is never chunked: the batch is its innermost axis) fits in ``COLS_BUDGET``."""
    k = w.shape[2:]
    osp = [(x.shape[2 + i] + lo + hi - d[i] * (k[i] - 1) - 1) // s[i] + 1
           for i, (lo, hi) in enumerate(pads)]
    return x.shape[0] * x.shape[1] * _prod(k) * _prod(osp) * x.itemsize <= COLS_BUDGET


def conv_forward_batch_last(xp, x, w, b, s, pads, d, groups, keep_cols=False):
    """Convolution by im2col with the batch as the innermost axis (``_batch_last``): the
    column copy and, in backward, the per-tap accumulation run over long contiguous runs even
    when images are small (their rows short), for two transposing copies of the input and
    the output. Returns ``(out, xt, cols)`` (``xt`` the padded batch-innermost input, for
    backward; ``cols`` kept when ``keep_cols``; both work buffers)."""
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    xt = _batch_last(xp, x, pads)
    sp = xt.shape[1:-1]
    osp = tuple((sp[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(len(k)))
    ck = c // groups * _prod(k)
    cols = _batch_last_cols(xp, xt, k, s, d, osp).reshape(groups, ck, -1)
    y = _gemm(xp, w.reshape(groups, o // groups, ck), cols).reshape((o,) + osp + (n,))
    out = _ws.result(xp, (n, o) + osp, x.dtype)
    _to_nc(xp, y, out, b, batch_last=True)
    return out, xt, (cols if keep_cols and cols.nbytes <= SAVE_COLS_BYTES else None)


def conv_backward_batch_last(xp, g, xt, w, cols, s, pads, d, groups, need):
    """Gradients of ``conv_forward_batch_last``; ``xt`` is its padded batch-innermost input
    (or a ``_Shape`` of it when ``cols`` were kept or only the input gradient is needed)."""
    n, o = g.shape[:2]
    k = w.shape[2:]
    nd = len(k)
    osp = g.shape[2:]
    c = xt.shape[0]
    ck = c // groups * _prod(k)
    gt = _ws.empty(xp, (o,) + osp + (n,), g.dtype)
    gt[...] = g.transpose(tuple(range(1, 2 + nd)) + (0,))
    g2 = gt.reshape(groups, o // groups, -1)
    gx = gw = gb = None
    if need[2]:
        gb = gt.reshape(o, -1).sum(axis=1)
    if need[1]:
        cl = cols if cols is not None else \
            _batch_last_cols(xp, xt, k, s, d, osp).reshape(groups, ck, -1)
        # a copy: _gemm's result is a work buffer, never handed out
        gw = _gemm(xp, g2, cl.transpose(0, 2, 1)).reshape(w.shape).copy()
    if need[0]:
        w2 = w.reshape(groups, o // groups, ck).transpose(0, 2, 1)
        gc = _gemm(xp, w2, g2).reshape((c,) + k + osp + (n,))
        full = _ws.zeros(xp, xt.shape, g.dtype)
        for tap in itertools.product(*[range(ki) for ki in k]):
            sl = (slice(None),) + tuple(
                slice(tap[i] * d[i], tap[i] * d[i] + (osp[i] - 1) * s[i] + 1, s[i])
                for i in range(nd))
            full[sl] += gc[(slice(None),) + tap]
        inner = full[(slice(None),) + tuple(slice(lo, full.shape[1 + i] - hi)
                                            for i, (lo, hi) in enumerate(pads))]
        gx = _ws.result(xp, (n, c) + inner.shape[1:-1], g.dtype)
        _to_nc(xp, inner, gx, None, batch_last=True)
    return gx, gw, gb


def conv_transpose_forward(xp, x, w, b, s, p, op, d, groups):
    """Transposed convolution on arrays: the input gradient of a convolution whose weight is
    ``w (C_in, C_out/groups, *k)``. Output size ``(S-1)*s - 2p + d*(k-1) + op + 1``."""
    n, cin = x.shape[:2]
    k = w.shape[2:]
    cout = w.shape[1] * groups
    sp = x.shape[2:]
    nd = len(k)
    full = tuple((sp[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(nd))
    pads = tuple((p[i], p[i]) for i in range(nd))
    osz = tuple(full[i] - 2 * p[i] for i in range(nd))
    ck = w.shape[1] * _prod(k)
    w2 = w.reshape(groups, cin // groups, ck).transpose(0, 2, 1)
    out = _ws.result(xp, (n, cout) + osz, x.dtype)
    nb = _chunk(n, cout * _prod(k) * _prod(sp) * x.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        gc = _gemm(xp, w2, _cn(xp, x[n0:n1], groups)).reshape((cout,) + k + (n1 - n0,) + sp)
        buf = _col2im(xp, gc, (cout, n1 - n0) + full, k, s, d, sp, False)
        _to_nc(xp, _crop(buf, pads), out[n0:n1], b)
    return out


def conv_transpose_backward(xp, g, x, w, s, p, d, groups, need):
    """Gradients of ``conv_transpose_forward``: a convolution of the output gradient."""
    n, cin = x.shape[:2]
    k = w.shape[2:]
    cout = w.shape[1] * groups
    sp = x.shape[2:]
    nd = len(k)
    gpad = _pad0(xp, g, tuple((p[i], p[i]) for i in range(nd)), False)
    ck = w.shape[1] * _prod(k)
    w2 = w.reshape(groups, cin // groups, ck)
    gx = _ws.result(xp, x.shape, g.dtype) if need[0] else None
    gw = xp.zeros((groups, cin // groups, ck), g.dtype) if need[1] else None
    gb = None
    if need[2]:
        gb = g.reshape(n, cout, -1).sum(axis=2).sum(axis=0) if n else xp.zeros((cout,), g.dtype)
    nb = _chunk(n, cout * _prod(k) * _prod(sp) * g.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        if gx is None and gw is None:
            break
        cl = _im2col(xp, gpad[n0:n1], k, s, d, sp, False).reshape(groups, ck,
                                                                   (n1 - n0) * _prod(sp))
        if gx is not None:
            _to_nc(xp, _gemm(xp, w2, cl).reshape((cin, n1 - n0) + sp), gx[n0:n1], None)
        if gw is not None:
            gw += _gemm(xp, _cn(xp, x[n0:n1], groups), cl.transpose(0, 2, 1))
    if gw is not None:
        gw = gw.reshape(w.shape)
    return gx, gw, gb


# ---------------------------------------------------------------------- algorithm choice
ALGORITHMS = ("flat", "im2col", "batch_last")
"""The convolution algorithms: ``flat`` (stride 1 only: shifted flat rows, ``conv_forward_flat``
and ``conv_backward_flat``), ``im2col`` (any geometry: ``conv_forward``, ``conv_backward``) and
``batch_last`` (im2col with the batch innermost, any geometry whose column matrix fits
``COLS_BUDGET``: ``conv_forward_batch_last``, ``conv_backward_batch_last``). Their results
agree within float32 rounding (the same products, summed in another order). The fixed rule
picks flat or im2col; ``batch_last`` is a candidate of the timed choice (it wins on small
images with many channels, e.g. LeNet's second layer, and can lose badly on large ones: its
transposing copies stride through memory)."""

TUNE_MIN_FLOPS = 2e6
"""Convolutions cheaper than this many multiply-adds (forward) use the fixed rule instead of
being timed: a few microseconds either way, not worth a measurement."""

_TUNED: dict = {}
"""Winner per problem key, for this process (cleared when it reaches ``_TUNED_MAX`` keys)."""
_TUNED_MAX = 1024
_FORCED = threading.local()
_cudnn = None


@contextmanager
def use_algorithm(name):
    """Force convolution algorithm ``name`` (one of ``ALGORITHMS``; ``None``: automatic) for
    the convolutions this thread runs inside the block; a geometry the algorithm cannot run
    (``flat`` with a stride) takes ``im2col``. For tests and measurements."""
    if name is not None and name not in ALGORITHMS:
        raise ValueError(f"unknown convolution algorithm {name!r}; expected one of "
                         f"{ALGORITHMS}")
    old = getattr(_FORCED, "name", None)
    _FORCED.name = name
    try:
        yield
    finally:
        _FORCED.name = old


def _fixed_rule(x, w, s, pads, d):
    """The machine-independent choice: flat rows for stride 1 when the valid outputs fill
    most of the flat layout (``use_flat``), else im2col."""
    ext, osp = flat_extent(x.shape[2:], pads, w.shape[2:], d)
    return "flat" if use_flat(s, ext, osp) else "im2col"


def choose_algorithm(xp, x, w, b, s, pads, d, groups, need):
    """The algorithm for this convolution (``x`` batched).

    A forced one (``use_algorithm``) wins. By default (``lamina.backends.cudnn.benchmark``
    False, torch's default), with ``deterministic`` set, on a GPU, for a single candidate or a
    small problem, the fixed rule (``_fixed_rule``) decides, the same on every machine, so
    results never depend on the machine or its load. With ``benchmark = True`` (the opt-in
    torch users set for speed) the first call of each problem (shapes,
    stride, padding, dilation, groups, dtype, bias, which gradients are needed) times every
    candidate on the actual arrays, forward and, when gradients are needed, backward, and
    keeps the fastest for later calls (like ``torch.backends.cudnn.benchmark``): the kernels
    tuned for one CPU's BLAS and caches are not the best on another. The candidates' results
    differ only by float32 rounding.
    """
    forced = getattr(_FORCED, "name", None)
    stride1 = all(v == 1 for v in s)
    if forced is not None:
        if (forced == "flat" and not stride1) or (
                forced == "batch_last" and not batch_last_fits(x, w, s, pads, d)):
            return "im2col"
        return forced
    global _cudnn
    if _cudnn is None:
        from ..backends import cudnn as _c

        _cudnn = _c
    if not stride1 or not _cudnn.benchmark or _cudnn.deterministic or xp.__name__ != "numpy":
        return _fixed_rule(x, w, s, pads, d)
    key = (x.shape, w.shape, s, pads, d, groups, x.dtype.char, b is not None,
           None if need is None else tuple(need))
    algo = _TUNED.get(key)
    if algo is None:
        osp = flat_extent(x.shape[2:], pads, w.shape[2:], d)[1]
        if x.shape[0] * w.shape[0] * _prod(osp) * _prod(w.shape[1:]) < TUNE_MIN_FLOPS:
            algo = _fixed_rule(x, w, s, pads, d)
        else:
            cands = ALGORITHMS if batch_last_fits(x, w, s, pads, d) else ("flat", "im2col")
            algo = _time_candidates(xp, x, w, b, s, pads, d, groups, need, cands)
        if len(_TUNED) >= _TUNED_MAX:
            _TUNED.clear()
        _TUNED[key] = algo
    return algo


TUNE_ROUNDS = 3
"""Timed rounds per candidate (after one untimed warm-up run each); the minimum counts."""

TUNE_SLOW_S = 0.05
"""A candidate whose warm-up run took longer than this is timed once (the measurement of a
large convolution costs little noise and much time)."""


def _time_candidates(xp, x, w, b, s, pads, d, groups, need, cands, rounds=TUNE_ROUNDS):
    """The fastest of ``cands`` on these arrays: each runs forward (and backward with the
    gradients of ``need``, its own output standing in for the output gradient) once untimed
    (its first run pays for fresh work buffers and cold caches, which would favour whichever
    runs second) and then ``rounds`` times, interleaved; the minimum time counts."""
    best = {c: float("inf") for c in cands}

    def run(c):
        t0 = time.perf_counter()
        out, xpad, cols = _conv_fwd(c, xp, x, w, b, s, pads, d, groups,
                                    need is not None and need[1])
        if need is not None:
            _conv_bwd(c, xp, out, xpad, w, cols, s, pads, d, groups, need)
        return time.perf_counter() - t0

    for c in cands:
        if run(c) > TUNE_SLOW_S:
            rounds = 1
    for _ in range(rounds):
        for c in cands:
            best[c] = min(best[c], run(c))
    return min(cands, key=best.__getitem__)


def _conv_fwd(algo, xp, x, w, b, s, pads, d, groups, keep):
    """Forward by ``algo``: ``(out, xpad, cols)``; ``xpad`` is what backward needs of the
    input (the input itself for ``flat``)."""
    if algo == "flat":
        out, cols = conv_forward_flat(xp, x, w, b, pads, d, groups, keep)
        return out, x, cols
    if algo == "batch_last":
        return conv_forward_batch_last(xp, x, w, b, s, pads, d, groups, keep)
    return conv_forward(xp, x, w, b, s, pads, d, groups, keep)


def _conv_bwd(algo, xp, g, xpad, w, cols, s, pads, d, groups, need):
    if algo == "flat":
        return conv_backward_flat(xp, g, xpad, w, cols, pads, d, groups, need)
    if algo == "batch_last":
        return conv_backward_batch_last(xp, g, xpad, w, cols, s, pads, d, groups, need)
    return conv_backward(xp, g, xpad, w, cols, s, pads, d, groups, need)


# ---------------------------------------------------------------------- ops
class ConvNd(Op):
    """N-d convolution node (torch's ``ConvolutionBackward0``); unbatched input allowed.
    The algorithm (flat rows or im2col) is chosen per problem by ``choose_algorithm``."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, s, pads, d, groups):
        unb = x.ndim == w.ndim - 1
        if unb:
            x = x[None]
        n = ctx.needs_input_grad
        xp = ctx.xp
        algo = choose_algorithm(xp, x, w, b, s, pads, d, groups, n)
        out, xpad, cols = _conv_fwd(algo, xp, x, w, b, s, pads, d, groups,
                                    n is not None and n[1])
        if n is not None:
            ctx.unb = unb
            ctx.algo = algo
            ctx.args = (s, pads, d, groups)
            ctx.cols = cols
            ctx.save_for_backward(xpad if (n[1] and cols is None) else None, w)
            ctx.xshape = xpad.shape
        return out[0] if unb else out

    @staticmethod
    def backward(ctx, g):
        xpad, w = ctx.saved
        s, pads, d, groups = ctx.args
        if ctx.unb:
            g = g[None]
        if xpad is None:  # only the shape is needed (input grad, or cols were kept)
            xpad = _Shape(ctx.xshape, g.dtype)
        gx, gw, gb = _conv_bwd(ctx.algo, ctx.xp, g, xpad, w, ctx.cols, s, pads, d, groups,
                               ctx.needs_input_grad)
        ctx.cols = None
        if ctx.unb and gx is not None:
            gx = gx[0]
        return gx, gw, gb, None, None, None, None


class _Shape:
    """Stands in for the padded input when backward needs only its shape."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype


class ConvTransposeNd(Op):
    """N-d transposed convolution node (torch's ``ConvolutionBackward0``)."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, s, p, op, d, groups):
        unb = x.ndim == w.ndim - 1
        if unb:
            x = x[None]
        out = conv_transpose_forward(ctx.xp, x, w, b, s, p, op, d, groups)
        if ctx.needs_input_grad is not None:
            ctx.unb = unb
            ctx.args = (s, p, d, groups)
            ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w)
            ctx.xshape = x.shape
        return out[0] if unb else out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        s, p, d, groups = ctx.args
        if ctx.unb:
            g = g[None]
        if x is None:
            x = _Shape(ctx.xshape, g.dtype)
        gx, gw, gb = conv_transpose_backward(ctx.xp, g, x, w, s, p, d, groups,
                                             ctx.needs_input_grad)
        if ctx.unb and gx is not None:
            gx = gx[0]
        return gx, gw, gb, None, None, None, None, None


# ---------------------------------------------------------------------- argument checks
def ntuple(v, n, name="kernel_size"):
    """An int or a sequence of ``n`` ints -> tuple of ``n`` ints (torch's ``_ntuple``)."""
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(e) for e in v)
    return (int(v),) * n


def _dims(shape):
    return "[" + ", ".join(str(v) for v in shape) + "]"


_TNAME = {"float32": "float", "float64": "double", "float16": "half"}


def _check_common(name, nd, input, weight, bias, transposed):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'weight' (position 2) must be Tensor, not "
                        f"{type(weight).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {_dims(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}: expected a {nd + 2}-D weight (out_channels, "
                           f"in_channels/groups, *kernel_size), got weight of size "
                           f"{_dims(weight.shape)}")
    dx, dw = input._data.dtype, weight._data.dtype
    if dx.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    if dx != dw:
        raise RuntimeError(f"Input type ({_TNAME.get(dx.name, dx.name)}) and weight type "
                           f"({_TNAME.get(dw.name, dw.name)}) should be the same")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{name}(): argument 'bias' must be Tensor, not "
                            f"{type(bias).__name__}")
        if bias._data.dtype != dx:
            raise RuntimeError(f"Input type ({_TNAME.get(dx.name, dx.name)}) and bias type "
                               f"({_TNAME.get(bias._data.dtype.name, bias._data.dtype.name)}) "
                               f"should be the same")
        nout = weight.shape[1] * 1 if transposed else weight.shape[0]
        if not transposed and (bias.ndim != 1 or bias.shape[0] != nout):
            raise RuntimeError(f"Given weight of size {_dims(weight.shape)}, expected bias to be "
                               f"1-dimensional with {nout} elements, but got bias of size "
                               f"{_dims(bias.shape)} instead")


def _check_sd(s, d):
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in d):
        raise RuntimeError("dilation should be greater than zero")


def conv_pads(padding, nd, k, s, d):
    """torch's padding argument (int, tuple, 'same', 'valid') -> ((lo, hi), ...) per axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            out = []
            for i in range(nd):
                total = d[i] * (k[i] - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = ntuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups):
    _check_common(name, nd, input, weight, bias, False)
    s = ntuple(stride, nd, "stride")
    d = ntuple(dilation, nd, "dilation")
    _check_sd(s, d)
    k = tuple(weight.shape[2:])
    pads = conv_pads(padding, nd, k, s, d)
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws = tuple(weight.shape)
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_dims(ws)}] instead")
    c = input.shape[-nd - 1]
    if c != ws[1] * groups:
        shp = tuple(input.shape) if input.ndim == nd + 2 else (1,) + tuple(input.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {_dims(ws)}, expected "
                           f"input{_dims(shp)} to have {ws[1] * groups} channels, but got {c} "
                           f"channels instead")
    sp = tuple(input.shape[-nd:])
    padded = tuple(sp[i] + pads[i][0] + pads[i][1] for i in range(nd))
    eff = tuple(d[i] * (k[i] - 1) + 1 for i in range(nd))
    if any(padded[i] < eff[i] for i in range(nd)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           f"actual input size")
    return ConvNd.apply(input, weight, bias, s, pads, d, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over ``(N, C_in, L)`` or unbatched ``(C_in, L)``; see ``Conv1d``."""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``; see ``Conv2d``."""
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over ``(N, C_in, D, H, W)`` or unbatched input; see ``Conv3d``."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(nd, name, input, weight, bias, stride, padding, output_padding, groups,
                       dilation):
    _check_common(name, nd, input, weight, bias, True)
    s = ntuple(stride, nd, "stride")
    d = ntuple(dilation, nd, "dilation")
    _check_sd(s, d)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    p = ntuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    op = ntuple(output_padding, nd, "output_padding")
    if any(v < 0 for v in op):
        raise RuntimeError("negative output_padding is not supported")
    for i in range(nd):
        if op[i] >= s[i] and op[i] >= d[i]:
            names = ["depth", "height", "width"][3 - nd:] if nd > 1 else ["width"]
            parts = " ".join(f"output_padding_{nm}: {op[j]}" for j, nm in enumerate(names))
            parts += " " + " ".join(f"stride_{nm}: {s[j]}" for j, nm in enumerate(names))
            parts += " " + " ".join(f"dilation_{nm}: {d[j]}" for j, nm in enumerate(names))
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                               f"but got {parts}")
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws = tuple(weight.shape)
    c = input.shape[-nd - 1]
    if c != ws[0]:
        shp = tuple(input.shape) if input.ndim == nd + 2 else (1,) + tuple(input.shape)
        raise RuntimeError(f"Given transposed=1, weight of size {_dims(ws)}, expected "
                           f"input{_dims(shp)} to have {ws[0]} channels, but got {c} channels "
                           f"instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_dims(ws)}] instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != ws[1] * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {_dims(ws)}, expected bias to be "
                           f"1-dimensional with {ws[1] * groups} elements, but got bias of size "
                           f"{_dims(bias.shape)} instead")
    sp = tuple(input.shape[-nd:])
    osz = tuple((sp[i] - 1) * s[i] - 2 * p[i] + d[i] * (ws[2 + i] - 1) + op[i] + 1
                for i in range(nd))
    if any(v <= 0 for v in osz):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sp))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, osz))}). "
                           f"Output size is too small")
    return ConvTransposeNd.apply(input, weight, bias, s, p, op, d, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution"); see ``ConvTranspose1d``."""
    return _conv_transpose_nd(1, "conv_transpose1d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution"); see ``ConvTranspose2d``."""
    return _conv_transpose_nd(2, "conv_transpose2d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution ("deconvolution"); see ``ConvTranspose3d``."""
    return _conv_transpose_nd(3, "conv_transpose3d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


# the public names of this module's ops (ops/_registry.py): nn.functional.X (their torch.X
# twins are lamina/__init__.py's _FUNCTIONAL_TWINS, loaded at first use)
for _fn in (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d):
    register(_fn, function=False, method=False, functional=True)
