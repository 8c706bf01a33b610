"""Pooling: max / avg / adaptive / LP pooling and max-unpooling, one N-d implementation.

Pooling works on strided views of the (padded) input, one view per kernel tap: a window of
``kh*kw`` taps costs ``kh*kw`` whole-array operations (a loop over kernel taps, never over
pixels, batch items or channels). Max pooling records which tap won (the first maximum, NaN
wins, as in ATen) in a small integer array; its backward writes ``g * (winner == tap)`` into
each tap's strided slice: an assignment when windows do not overlap, an accumulation when they
do, never ``add.at``. Adaptive average pooling is a product with a small averaging matrix per
spatial axis.
"""

from __future__ import annotations

import itertools

from .._backends import _workspace as _ws
from .._tensor import Tensor, _make
from ._op import Op
from ._registry import register
from .conv import ntuple, windows

# ---------------------------------------------------------------------- geometry


def pool_out_size(n, k, s, p, d, ceil):
    """torch's pooling output length (``pooling_output_shape``)."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = num // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _tap_slices(tap, s, d, osp, lead=2):
    return (slice(None),) * lead + tuple(
        slice(tap[i] * d[i], tap[i] * d[i] + (osp[i] - 1) * s[i] + 1, s[i])
        for i in range(len(tap)))


def _taps(k):
    return itertools.product(*[range(v) for v in k])


def _pad_fill(xp, x, pads, value):
    """Pad the spatial axes (from axis 2) of x with ``value``; pads = ((lo, hi), ...); the
    padded copy is a work buffer (``_backends._workspace``), never returned."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    out = _ws.empty(xp, shape, x.dtype)
    out.fill(value)
    out[(slice(None),) * 2 + tuple(slice(lo, lo + n) for n, (lo, _) in
                                   zip(x.shape[2:], pads))] = x
    return out


def _crop(x, pads):
    if not any(lo or hi for lo, hi in pads):
        return x
    return x[(slice(None),) * 2 + tuple(slice(lo, x.shape[2 + i] - hi)
                                        for i, (lo, hi) in enumerate(pads))]


def _lowest(xp, dtype):
    if dtype.kind == "f":
        return -float("inf")
    if dtype.kind == "b":
        return False
    return xp.iinfo(dtype).min


def _idx_dtype(xp, ntaps):
    return xp.uint8 if ntaps <= 255 else xp.int32


def _disjoint(k, s, d):
    return all(s[i] >= d[i] * (k[i] - 1) + 1 for i in range(len(k)))


def _grad_buffer(xp, pshape, k, s, d, osp, dtype):
    """The input-gradient array of a pooling backward: uninitialized when the taps' slices
    tile it exactly (each element is assigned once), else zeros."""
    tiled = all(s[i] == d[i] * (k[i] - 1) + 1 == k[i] and osp[i] * s[i] == pshape[2 + i]
                for i in range(len(k)))
    return (_ws.result if tiled else _ws.result_zeros)(xp, pshape, dtype)


def _flat_indices(xp, idx, k, s, p, d, osp, insp):
    """Winner tap ids -> torch's indices: flat offsets into each input plane."""
    nd = len(k)
    rem = idx.astype(xp.int64)
    flat = None
    coords = []
    for i in range(nd - 1, -1, -1):
        coords.append(rem % k[i])
        rem = rem // k[i]
    coords.reverse()
    for i in range(nd):
        shape = [1] * nd
        shape[i] = osp[i]
        base = (xp.arange(osp[i], dtype=xp.int64) * s[i] - p[i]).reshape(shape)
        pos = base + coords[i] * d[i]
        flat = pos if flat is None else flat * insp[i] + pos
    return flat


# ---------------------------------------------------------------------- max pooling
class MaxPoolNd(Op):
    """Max pooling over the last ``len(k)`` axes of ``(N, C, *S)``. The winning tap ids (small
    ints) are kept for backward and, when ``box`` is a list, appended to it."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, k, s, pads, d, osp, box):
        xp = ctx.xp
        xpad = _pad_fill(xp, x, pads, _lowest(xp, x.dtype))
        need = box is not None or ctx.needs_input_grad is not None
        best = idx = None
        nt = _prod(k)
        if 1 < nt and nt * _prod(osp) <= 2 * _prod(xpad.shape[2:]):
            # all taps in one transposing copy (tap-major, contiguous): the elementwise passes
            # below then run on contiguous arrays, several times faster than on strided views
            nd = len(k)
            v = windows(xp, xpad, k, s, d, osp).transpose(
                tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2 + nd)))
            taps = _ws.empty(xp, v.shape, v.dtype)
            taps[...] = v
            taps = taps.reshape((nt,) + v.shape[nd:])
        else:
            taps = (xpad[_tap_slices(tap, s, d, osp)] for tap in _taps(k))
        for t, v in enumerate(taps):
            if best is None:
                best = _ws.result(xp, v.shape, v.dtype)
                best[...] = v
                if need:
                    idx = xp.zeros(best.shape, _idx_dtype(xp, _prod(k)))
            elif need:
                # torch's rule: a tap wins when it is greater or NaN (the last NaN wins)
                m = v > best
                if x.dtype.kind == "f":
                    m |= v != v
                xp.maximum(best, v, out=best)  # NaN propagates, as in torch
                # idx = where(m, t, idx) as arithmetic: a masked copyto is ~10x slower
                step = t - idx  # uint8 wraps around and back: still exact
                step *= m
                idx += step
            else:
                xp.maximum(best, v, out=best)
        if ctx.needs_input_grad is not None:
            ctx.geom = (k, s, pads, d, osp, xpad.shape)
            ctx.idx = idx
        if box is not None:
            box.append(idx)
        return best

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        k, s, pads, d, osp, pshape = ctx.geom
        idx = ctx.idx
        assign = _disjoint(k, s, d)
        gx = _grad_buffer(xp, pshape, k, s, d, osp, g.dtype) if assign else \
            _ws.result_zeros(xp, pshape, g.dtype)
        for t, tap in enumerate(_taps(k)):
            sl = _tap_slices(tap, s, d, osp)
            if assign:
                xp.multiply(g, idx == t, out=gx[sl])
            else:
                gx[sl] += g * (idx == t)
        return _crop(gx, pads), None, None, None, None, None, None


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p


# ---------------------------------------------------------------------- average pooling
def _avg_divisor(xp, dtype, insp, k, s, p, osp, count_include_pad, divisor_override):
    """The divisor of each output position: a scalar or an array broadcastable to osp."""
    if divisor_override:
        return float(divisor_override)
    nd = len(k)
    div = None
    for i in range(nd):
        o = xp.arange(osp[i], dtype=xp.int64)
        start = o * s[i] - p[i]
        end = xp.minimum(start + k[i], insp[i] + p[i])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = xp.minimum(end, insp[i]) - xp.maximum(start, 0)
        shape = [1] * nd
        shape[i] = osp[i]
        cnt = cnt.reshape(shape)
        div = cnt if div is None else div * cnt
    if bool((div == div.reshape(-1)[0]).all()):
        return float(div.reshape(-1)[0])
    return div.astype(dtype if dtype.kind == "f" else xp.float64)


class AvgPoolNd(Op):
    """Average pooling over the last ``len(k)`` axes of ``(N, C, *S)``."""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, k, s, pads, osp, div):
        xp = ctx.xp
        xpad = _pad_fill(xp, x, pads, 0)
        acc = None
        for tap in _taps(k):
            v = xpad[_tap_slices(tap, s, (1,) * len(k), osp)]
            if acc is None:
                acc = v.astype(x.dtype if x.dtype.kind == "f" else xp.int64, copy=True)
            else:
                acc += v
        if x.dtype.kind == "f":
            acc /= div if isinstance(div, float) else div.astype(acc.dtype)
        else:
            acc = xp.trunc(acc / div).astype(x.dtype)
        if ctx.needs_input_grad is not None:
            ctx.geom = (k, s, pads, osp, xpad.shape, div)
        return acc

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        k, s, pads, osp, pshape, div = ctx.geom
        gd = _ws.empty(xp, g.shape, g.dtype)
        xp.divide(g, div if isinstance(div, float) else div.astype(g.dtype), out=gd)
        one = (1,) * len(k)
        assign = _disjoint(k, s, one)
        gx = _grad_buffer(xp, pshape, k, s, one, osp, g.dtype) if assign else \
            _ws.result_zeros(xp, pshape, g.dtype)
        for tap in _taps(k):
            sl = _tap_slices(tap, s, one, osp)
            if assign:
                gx[sl] = gd
            else:
                gx[sl] += gd
        return _crop(gx, pads), None, None, None, None, None


# ---------------------------------------------------------------------- adaptive pooling
def _adaptive_bounds(n, o):
    """Window [start, end) of each of the ``o`` outputs over ``n`` inputs (ATen's rule)."""
    starts = [(i * n) // o for i in range(o)]
    ends = [-((-(i + 1) * n) // o) for i in range(o)]
    return starts, ends


def _avg_matrix(xp, n, o, dtype):
    """(o, n) matrix averaging each adaptive window."""
    import numpy as np

    a = np.zeros((o, n), np.float64)
    starts, ends = _adaptive_bounds(n, o)
    for i in range(o):  # o rows of a small matrix, built once per call
        a[i, starts[i]:ends[i]] = 1.0 / (ends[i] - starts[i])
    return xp.asarray(a.astype(dtype))


def _apply_last(xp, x, mat, axis):
    """Contract ``x``'s ``axis`` with ``mat (o, n)``: move it last, one GEMM, move it back."""
    xm = xp.moveaxis(x, axis, -1)
    shp = xm.shape
    y = xp.ascontiguousarray(xm).reshape(-1, shp[-1]) @ mat.T
    return xp.ascontiguousarray(xp.moveaxis(y.reshape(shp[:-1] + (mat.shape[0],)), -1, axis))


class AdaptiveAvgPoolNd(Op):
    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, osz):
        xp = ctx.xp
        nd = len(osz)
        insp = x.shape[-nd:]
        lead = x.shape[:-nd]
        ctx.insp = insp
        if all(insp[i] % osz[i] == 0 for i in range(nd)):
            # uniform windows: a reshape and one mean
            kk = tuple(insp[i] // osz[i] for i in range(nd))
            ctx.kk = kk
            shape = lead + tuple(v for i in range(nd) for v in (osz[i], kk[i]))
            axes = tuple(len(lead) + 2 * i + 1 for i in range(nd))
            return x.reshape(shape).mean(axis=axes, dtype=x.dtype)
        ctx.kk = None
        mats = [_avg_matrix(xp, insp[i], osz[i], x.dtype) for i in range(nd)]
        ctx.mats = mats
        y = x
        for i in range(nd):
            y = _apply_last(xp, y, mats[i], x.ndim - nd + i)
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        nd = len(ctx.insp)
        lead = g.shape[:-nd]
        if ctx.kk is not None:
            kk = ctx.kk
            osz = g.shape[-nd:]
            gd = g / _prod(kk)
            shape = lead + tuple(v for i in range(nd) for v in (osz[i], 1))
            full = lead + tuple(v for i in range(nd) for v in (osz[i], kk[i]))
            out = xp.broadcast_to(gd.reshape(shape), full)
            return xp.ascontiguousarray(out).reshape(lead + tuple(ctx.insp)), None
        y = g
        for i in range(nd):
            y = _apply_last(xp, y, ctx.mats[i].T, g.ndim - nd + i)
        return y, None


def _adaptive_index(xp, n, o):
    """(o, kmax) positions of each adaptive window, the last one repeated to fill kmax."""
    import numpy as np

    starts, ends = _adaptive_bounds(n, o)
    kmax = max(e - s for s, e in zip(starts, ends))
    st = np.asarray(starts)[:, None]
    en = np.asarray(ends)[:, None]
    pos = np.minimum(st + np.arange(kmax)[None, :], en - 1)
    return xp.asarray(pos.astype(np.int64)), kmax


class AdaptiveMaxPoolNd(Op):
    """Adaptive max pooling; appends the flat indices into each input plane to ``box``."""

    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, osz, box):
        xp = ctx.xp
        nd = len(osz)
        insp = x.shape[-nd:]
        pos = []
        kk = []
        for i in range(nd):
            p, km = _adaptive_index(xp, insp[i], osz[i])
            pos.append(p)
            kk.append(km)
        best = idx = None
        for t, tap in enumerate(_taps(kk)):
            ix = _tap_index(pos, tap, nd)
            v = x[(Ellipsis,) + ix]
            if best is None:
                best = _ws.result(xp, v.shape, v.dtype)
                best[...] = v
                idx = xp.zeros(best.shape, _idx_dtype(xp, _prod(kk)))
            else:
                m = v > best
                if x.dtype.kind == "f":
                    m |= v != v
                xp.copyto(best, v, where=m)
                xp.copyto(idx, t, where=m, casting="unsafe")
        ctx.geom = (pos, kk, insp)
        ctx.idx = idx
        # flat offsets into each input plane, torch's returned indices
        rem = idx.astype(xp.int64)
        coords = []
        for i in range(nd - 1, -1, -1):
            coords.append(rem % kk[i])
            rem = rem // kk[i]
        coords.reverse()
        flat = None
        for i in range(nd):
            shape = [1] * nd
            shape[i] = osz[i]
            rows = xp.arange(osz[i]).reshape(shape)
            pi = pos[i][rows, coords[i]]
            flat = pi if flat is None else flat * insp[i] + pi
        box.append(flat)
        return best

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        pos, kk, insp = ctx.geom
        nd = len(kk)
        idx = ctx.idx
        gx = xp.zeros(g.shape[:-nd] + tuple(insp), g.dtype)
        unique = all(g.shape[-nd + i] <= insp[i] for i in range(nd))
        for t, tap in enumerate(_taps(kk)):
            ix = _tap_index(pos, tap, nd)
            v = g * (idx == t)
            if unique:  # positions within one tap are distinct when windows shrink
                gx[(Ellipsis,) + ix] += v
            else:
                full = tuple(xp.broadcast_to(a, v.shape[-nd:]) for a in ix)
                xp.add.at(gx, (Ellipsis,) + full, v)
        return gx, None, None


def _tap_index(pos, tap, nd):
    ix = []
    for i in range(nd):
        shape = [1] * nd
        shape[i] = pos[i].shape[0]
        ix.append(pos[i][:, tap[i]].reshape(shape))
    return tuple(ix)


# ---------------------------------------------------------------------- max unpooling
class MaxUnpoolNd(Op):
    node_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, idx, osz):
        xp = ctx.xp
        nd = len(osz)
        lead = x.shape[:-nd]
        m = _prod(lead)
        x2 = x.reshape(m, -1)
        i2 = idx.reshape(m, -1)
        out = xp.zeros((m, _prod(osz)), x.dtype)
        rows = xp.arange(m)[:, None]
        out[rows, i2] = x2
        ctx.i2 = i2
        ctx.xshape = x.shape
        return out.reshape(lead + tuple(osz))

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        i2 = ctx.i2
        m = i2.shape[0]
        g2 = g.reshape(m, -1)
        return g2[xp.arange(m)[:, None], i2].reshape(ctx.xshape), None, None


# ---------------------------------------------------------------------- functions
def _check_input(name, input, nd, batched_ok=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2) or any(v == 0 for v in input.shape[-nd - 1:]):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got: "
                           f"{list(input.shape)}")


def _geometry(name, input, nd, kernel_size, stride, padding, dilation, ceil_mode, is_max):
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if (stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)) else \
        ntuple(stride, nd, "stride")
    p = ntuple(padding, nd, "padding")
    d = ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"{', '.join(f'k{i}: {v}' for i, v in enumerate(k))}")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v < 0 for v in s):
        raise RuntimeError("stride should be greater than zero")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation "
                           f"{list(d)}")
    for i in range(nd):
        eff = d[i] * (k[i] - 1) + 1
        if p[i] < 0 or p[i] * 2 > (eff if is_max else k[i]):
            if is_max:
                raise RuntimeError(f"pad should be at most half of effective kernel size, but "
                                   f"got pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}")
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p[i]}, kernel_size={k[i]} and dilation=1")
    insp = tuple(input.shape[-nd:])
    osp = tuple(pool_out_size(insp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(v <= 0 for v in osp):
        c = input.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + insp))}). Calculated "
                           f"output size: ({'x'.join(map(str, (c,) + osp))}). Output size is "
                           f"too small")
    # right padding may grow in ceil mode so that the last window fits in the buffer
    pads = tuple((p[i], max(p[i], (osp[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - insp[i] - p[i]))
                 for i in range(nd))
    return k, s, p, d, pads, osp


_MAX_OPS = {}
_AVG_OPS = {}
_AAVG_OPS = {}
_AMAX_OPS = {}
_UNPOOL_OPS = {}


def _op_for(table, base, nd, name):
    op = table.get(nd)
    if op is None:
        op = table[nd] = type(f"{base.__name__}{nd}", (base,), {"node_name": name})
    return op


def _unsq(input, nd):
    """Work on (N, C, *S) arrays: unbatched inputs get a batch axis inside the op call."""
    from .shape import unsqueeze

    return unsqueeze(input, 0) if input.ndim == nd + 1 else input


def _sq(out, unb):
    from .shape import squeeze

    if not unb:
        return out
    if isinstance(out, tuple):
        return tuple(squeeze(o, 0) for o in out)
    return squeeze(out, 0)


def _max_pool(nd, name, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    _check_input(name, input, nd)
    k, s, p, d, pads, osp = _geometry(name, input, nd, kernel_size, stride, padding, dilation,
                                      ceil_mode, True)
    unb = input.ndim == nd + 1
    x = _unsq(input, nd)
    op = _op_for(_MAX_OPS, MaxPoolNd, nd, f"MaxPool{nd}DWithIndicesBackward0")
    if not return_indices:
        return _sq(op.apply(x, k, s, pads, d, osp, None), unb)
    box = []
    out = op.apply(x, k, s, pads, d, osp, box)
    from .._device import backend

    flat = _flat_indices(backend(out._device).xp, box[0], k, s, p, d, osp,
                         tuple(input.shape[-nd:]))
    return _sq((out, _make(flat, out._device)), unb)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``; see ``MaxPool1d``."""
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``; see ``MaxPool2d``."""
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; see ``MaxPool3d``."""
    return _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool(nd, name, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_input(name, input, nd)
    k, s, p, d, pads, osp = _geometry(name, input, nd, kernel_size, stride, padding, 1,
                                      ceil_mode, False)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    from .._device import backend

    xpn = backend(input._device).xp
    div = _avg_divisor(xpn, input._data.dtype, tuple(input.shape[-nd:]), k, s, p, osp,
                       count_include_pad, divisor_override)
    unb = input.ndim == nd + 1
    op = _op_for(_AVG_OPS, AvgPoolNd, nd, f"AvgPool{nd}DBackward0")
    return _sq(op.apply(_unsq(input, nd), k, s, pads, osp, div), unb)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling; see ``AvgPool1d``."""
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling; see ``AvgPool2d``."""
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling; see ``AvgPool3d``."""
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_size(name, input, nd, output_size):
    if input.ndim not in (nd + 1, nd + 2) or any(v == 0 for v in input.shape[-nd:]):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) == 1 and nd > 1:
            output_size = tuple(output_size) * nd
        if len(output_size) != nd:
            raise ValueError(f"{name}: output_size must be an int or a tuple of {nd} values, "
                             f"got {output_size}")
        osz = tuple(input.shape[-nd + i] if v is None else int(v)
                    for i, v in enumerate(output_size))
    else:
        osz = (int(output_size),) * nd
    if any(v < 0 for v in osz):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(osz)}")
    return osz


def _adaptive_avg(nd, name, input, output_size):
    osz = _adaptive_size(name, input, nd, output_size)
    op = _op_for(_AAVG_OPS, AdaptiveAvgPoolNd, nd, f"AdaptiveAvgPool{nd}DBackward0")
    if any(v == 0 for v in osz):
        from .._creation import zeros

        return zeros(tuple(input.shape[:-nd]) + osz, dtype=input.dtype, device=input.device)
    return op.apply(input, osz)


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling to ``output_size`` over the last axis."""
    return _adaptive_avg(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to ``output_size`` (int or (H, W); None keeps that size)."""
    return _adaptive_avg(2, "adaptive_avg_pool2d", input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Adaptive average pooling to ``output_size`` over the last three axes."""
    return _adaptive_avg(3, "adaptive_avg_pool3d", input, output_size)


def _adaptive_max(nd, name, input, output_size, return_indices):
    osz = _adaptive_size(name, input, nd, output_size)
    if any(v == 0 for v in osz):
        raise RuntimeError(f"{name}: output_size must be greater than 0, got {list(osz)}")
    op = _op_for(_AMAX_OPS, AdaptiveMaxPoolNd, nd, f"AdaptiveMaxPool{nd}DBackward0")
    box = []
    out = op.apply(input, osz, box)
    return (out, _make(box[0], out._device)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, "adaptive_max_pool1d", input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, "adaptive_max_pool2d", input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(3, "adaptive_max_pool3d", input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(1, "adaptive_max_pool1d", input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(2, "adaptive_max_pool2d", input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(3, "adaptive_max_pool3d", input, output_size, True)


def unpool_output_size(input, nd, kernel_size, stride, padding, output_size):
    """torch's ``_unpool_output_size``: the default size, or a checked ``output_size``."""
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else ntuple(stride, nd, "stride")
    p = ntuple(padding, nd, "padding")
    insp = tuple(input.shape[-nd:])
    default = tuple((insp[i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(nd))
    if output_size is None:
        return default
    output_size = tuple(int(v) for v in output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    elif len(output_size) == nd + 1:
        output_size = output_size[1:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for i in range(nd):
        lo = default[i] - s[i]
        hi = default[i] + s[i]
        if not lo < output_size[i] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                             f'{lo} and {hi})')
    return output_size


def _max_unpool(nd, name, input, indices, kernel_size, stride, padding, output_size):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected indices to have an integer dtype, got "
                           f"{indices.dtype}")
    osz = unpool_output_size(input, nd, kernel_size, stride, padding, output_size)
    n = _prod(osz)
    ia = indices._data
    if ia.size and (int(ia.min()) < 0 or int(ia.max()) >= n):
        bad = int(ia.max()) if int(ia.max()) >= n else int(ia.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, osz))}")
    op = _op_for(_UNPOOL_OPS, MaxUnpoolNd, nd, f"MaxUnpool{nd}DBackward0")
    return op.apply(input, indices, osz)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: scatter values to their recorded positions."""
    return _max_unpool(1, "max_unpool1d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: scatter values to their recorded positions."""
    return _max_unpool(2, "max_unpool2d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: scatter values to their recorded positions."""
    return _max_unpool(3, "max_unpool3d", input, indices, kernel_size, stride, padding,
                       output_size)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    from .unary import abs as _abs
    from .unary import relu, sign

    k = ntuple(kernel_size, nd, "kernel_size")
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (sign(out) * relu(_abs(out))).mul(_prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over window x^p)^(1/p)``."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over window x^p)^(1/p)``."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over window x^p)^(1/p)``."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# the public names of this module's ops (ops/_registry.py): nn.functional.X (their torch.X
# twins are lamina/__init__.py's _FUNCTIONAL_TWINS, loaded at first use)
for _fn in (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices, max_pool2d_with_indices,
            max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d, adaptive_avg_pool1d,
            adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,
            adaptive_max_pool3d, adaptive_max_pool1d_with_indices,
            adaptive_max_pool2d_with_indices, adaptive_max_pool3d_with_indices, max_unpool1d,
            max_unpool2d, max_unpool3d, lp_pool1d, lp_pool2d, lp_pool3d):
    register(_fn, function=False, method=False, functional=True)
