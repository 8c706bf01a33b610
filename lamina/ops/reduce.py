"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumsum, all/any, argmax."""

from __future__ import annotations

import builtins
import contextlib
import warnings
from collections import namedtuple

from .. import _dtype as D
from .._device import backend
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.grad_mode import STATE
from ._op import Op
from ._registry import register
from .cast import Cast

_sum = builtins.sum


def _axes(dim, ndim):
    """Normalize torch's dim (None, int, tuple/list) to a numpy axis (None or sorted tuple).

    A 0-d tensor accepts dim 0 / -1 (torch treats it as one element); NumPy cannot reduce a
    0-d array along an axis, so that becomes the empty tuple (a no-op reduction).
    """
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        ax = [_wrap_dim(d, ndim) for d in dim]
        if len(set(ax)) != len(ax):
            dup = next(a for a in ax if ax.count(a) > 1)
            raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
        return () if ndim == 0 else tuple(sorted(ax))
    d = _wrap_dim(dim, ndim)
    return () if ndim == 0 else (d,)


def _expand_back(g, shape, axes, keepdim, xp):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim and len(shape):
        if axes is None:
            g = g.reshape((1,) * len(shape))
        elif axes:
            g = xp.expand_dims(g, axes)
    n = 1
    for s in shape:
        n *= s
    if n <= 4096:
        # small: filling a fresh array is cheaper than NumPy's broadcast_to machinery
        out = xp.empty(shape, g.dtype)
        out[...] = g
        return out
    return xp.broadcast_to(g, shape)


def _save_reduced(ctx, x, out, axes, keepdim):
    """Save ``x`` and ``out`` (a reduction of x computed with keepdims=True) and the axes and
    keepdim for backward; return ``out`` as asked: unless keepdim, without the reduced dims
    (all of them where axes is None)."""
    ctx.save_for_backward(x, out)
    ctx.axes = axes
    ctx.keepdim = keepdim
    if keepdim:
        return out
    return out.reshape(() if axes is None else
                       tuple(n for i, n in enumerate(x.shape) if i not in axes))


class Sum(Op):
    """Sum over all elements (SumBackward0) or over dims (``_SUM_DIM``, SumBackward1)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, npdtype):
        ctx.shape = x.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        if axes is None and npdtype is None and x.size >= _BLAS_MIN and x.dtype.kind == "f" \
                and x.dtype.itemsize >= 4 and x.flags.c_contiguous:
            s = _blas_sum(ctx.xp, x)
            return s.reshape((1,) * x.ndim) if keepdim else s
        return x.sum(axis=axes, dtype=npdtype, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim, ctx.xp), None, None, None


_BLAS_MIN = 1 << 16
_BLOCK = 1024
_ONES: dict = {}


def _blas_sum(xp, x):
    """Sum of a large contiguous float array as a matrix-vector product with ones.

    NumPy's float32 reduction is single-threaded and slow; the BLAS gemv is blocked (so as
    accurate as a pairwise sum for this purpose) and uses every core.
    """
    n = x.size
    m = n // _BLOCK
    key = (x.dtype.str, getattr(getattr(x, "device", None), "id", None))
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = xp.ones(_BLOCK, x.dtype)
    flat = x.reshape(-1)
    cut = m * _BLOCK
    s = (flat[:cut].reshape(m, _BLOCK) @ ones).sum()
    if cut < n:
        s = s + flat[cut:].sum()
    return xp.asarray(s, dtype=x.dtype)


_SUM_DIM = Sum.named("SumBackward1")


class Mean(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape = x.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        xp = ctx.xp
        if x.size == 0:  # NumPy warns "Mean of empty slice"; torch quietly gives nan
            out = xp.sum(x, axis=axes, keepdims=keepdim) * x.dtype.type(float("nan"))
        else:
            out = xp.mean(x, axis=axes, keepdims=keepdim)
        if out.dtype != x.dtype:  # numpy returns float64 scalars for some inputs
            out = out.astype(x.dtype)
        ctx.n = x.size // builtins.max(out.size, 1) if x.size else 0
        return out

    @staticmethod
    def backward(ctx, g):
        gx = _expand_back(g / g.dtype.type(builtins.max(ctx.n, 1)), ctx.shape, ctx.axes,
                          ctx.keepdim, ctx.xp)
        return gx, None, None


_MEAN_DIM = Mean.named("MeanBackward1")


class Prod(Op):
    """Product over all elements (axis None) or one axis; the backward handles zeros."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        out = ctx.xp.prod(x, axis=axis, keepdims=keepdim)
        if out.dtype != x.dtype:
            out = out.astype(x.dtype)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        ctx.keepdim = keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = ctx.xp
        ax = ctx.axis
        if x.ndim == 0:
            return g.copy(), None, None
        axes = None if ax is None else (ax,)
        g = _expand_back(g, x.shape, axes, ctx.keepdim, xp)
        if x.size == 0:
            return xp.zeros(x.shape, g.dtype), None, None
        if not (x == 0).any():
            o = _expand_back(out, x.shape, axes, ctx.keepdim, xp)
            return g * o / x, None, None
        # with zeros: the product of all other elements, from exclusive cumulative products
        # from both ends (no division, so exact where a zero sits)
        xf = x.reshape(-1) if ax is None else x
        a = 0 if ax is None else ax
        n = xf.shape[a]
        one = xp.ones_like(xp.take(xf, [0], axis=a))
        left = xp.concatenate([one, xp.take(xp.cumprod(xf, axis=a), range(n - 1), axis=a)],
                              axis=a)
        rev = xp.flip(xf, axis=a)
        right = xp.concatenate([one, xp.take(xp.cumprod(rev, axis=a), range(n - 1), axis=a)],
                               axis=a)
        others = left * xp.flip(right, axis=a)
        return g * others.reshape(x.shape), None, None


_PROD_DIM = Prod.named("ProdBackward1")


class MaxMin(Op):
    """amax/amin over dims: ties share the gradient evenly (torch's amax/amin and max())."""

    node_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        xp = ctx.xp
        out = (xp.max if is_max else xp.min)(x, axis=axes, keepdims=True)
        return _save_reduced(ctx, x, out, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = ctx.xp
        mask = (x == out) | (xp.isnan(x) & xp.isnan(out)) if x.dtype.kind == "f" else x == out
        cnt = mask.sum(axis=ctx.axes, keepdims=True)
        if not ctx.keepdim:
            g = g.reshape(out.shape)
        return xp.where(mask, g / cnt.astype(g.dtype), 0).astype(g.dtype), None, None, None


# the same node under torch's names, by is_max: amax/amin over dims, max()/min() over all
_AMAX_AMIN = {True: MaxMin, False: MaxMin.named("AminBackward0")}
_MAX_MIN_ALL = {True: MaxMin.named("MaxBackward1"), False: MaxMin.named("MinBackward1")}


class MaxMinDim(Op):
    """max/min along one dim returning values; the gradient goes to the selected index."""

    node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, dim, keepdim, idx):
        xp = ctx.xp
        ctx.dim = dim
        if dim is None:  # a 0-d input: the value itself
            return x.copy()
        ie = xp.expand_dims(idx, dim) if not keepdim else idx
        out = xp.take_along_axis(x, ie, axis=dim)
        ctx.save_for_backward(ie)
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.keepdim = keepdim
        return out if keepdim else xp.squeeze(out, dim)

    @staticmethod
    def backward(ctx, g):
        if ctx.dim is None:
            return g, None, None, None
        (ie,) = ctx.saved
        xp = ctx.xp
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.dim)
        # the gradient goes where the position along dim equals the chosen index
        shape = [1] * len(ctx.shape)
        shape[ctx.dim] = ctx.shape[ctx.dim]
        iota = xp.arange(ctx.shape[ctx.dim]).reshape(shape)
        gx = xp.where(iota == ie, g, 0)
        return gx.astype(g.dtype, copy=False), None, None, None


_MAX_MIN_DIM = {True: MaxMinDim, False: MaxMinDim.named("MinBackward0")}  # by is_max


class Var(Op):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = ctx.xp
        d, den = _deviations(x, axes, correction, xp)
        ss = xp.sum(d * d, axis=axes, keepdims=keepdim)
        with _quiet(xp):
            out = ss / x.dtype.type(den)
        ctx.save_for_backward(d)
        ctx.axes = axes
        ctx.keepdim = keepdim
        ctx.den = den
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved
        xp = ctx.xp
        g = _expand_back(g, d.shape, ctx.axes, ctx.keepdim, xp)
        return g * d * d.dtype.type(2.0 / ctx.den if ctx.den else float("nan")), None, None, None


class Std(Op):
    """sqrt(var) as one node (torch's StdBackward0)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = ctx.xp
        d, den = _deviations(x, axes, correction, xp)
        with _quiet(xp):
            out = xp.sqrt(xp.sum(d * d, axis=axes, keepdims=keepdim) / x.dtype.type(den))
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(d, out)
        ctx.axes = axes
        ctx.keepdim = keepdim
        ctx.den = den
        return out

    @staticmethod
    def backward(ctx, g):
        d, out = ctx.saved
        xp = ctx.xp
        with _quiet(xp):
            # d std / dx = (x - mean) / (den * std); torch gives 0 where std is 0
            s = xp.where(out == 0, 0, g / (out * d.dtype.type(ctx.den or float("nan"))))
        s = _expand_back(s, d.shape, ctx.axes, ctx.keepdim, xp)
        return (s * d).astype(d.dtype, copy=False), None, None, None


def _deviations(x, axes, correction, xp):
    """var/std's common part: x minus its mean over axes, and the divisor n - correction
    (at least 0)."""
    den = builtins.max(_count(x, axes) - correction, 0)
    if x.size == 0:
        mean = xp.sum(x, axis=axes, keepdims=True)
    else:
        mean = xp.mean(x, axis=axes, keepdims=True)
    return x - mean, den


def _count(x, axes):
    """Number of elements reduced into each output element."""
    if axes is None:
        return x.size
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _quiet(xp):
    """Silence NumPy's divide / invalid warnings where torch returns inf or nan quietly."""
    es = getattr(xp, "errstate", None)
    return es(divide="ignore", invalid="ignore") if es is not None else contextlib.nullcontext()


class Norm(Op):
    """torch.linalg.vector_norm (what Tensor.norm calls): p-norms over dims, one node."""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = ctx.xp
        a = xp.abs(x)
        if p == 2:
            out = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=True))
        elif p == 1:
            out = xp.sum(a, axis=axes, keepdims=True)
        elif p == float("inf"):
            out = xp.max(a, axis=axes, keepdims=True) if x.size else \
                xp.zeros([1] * x.ndim, x.dtype)
        elif p == float("-inf"):
            out = xp.min(a, axis=axes, keepdims=True)
        elif p == 0:
            out = xp.sum(a != 0, axis=axes, keepdims=True).astype(x.dtype)
        else:
            out = xp.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
        out = out.astype(x.dtype, copy=False)
        ctx.p = p
        return _save_reduced(ctx, x, out, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = ctx.xp
        p = ctx.p
        if not ctx.keepdim:
            g = g.reshape(out.shape)
        with _quiet(xp):
            if p == 0:
                gx = xp.zeros_like(x)
            elif p == 1:
                gx = xp.sign(x) * g
            elif p == 2:
                gx = x * xp.where(out == 0, 0, g / out)
            elif p in (float("inf"), float("-inf")):
                a = xp.abs(x)
                mask = a == out
                cnt = mask.sum(axis=ctx.axes, keepdims=True).astype(x.dtype)
                gx = xp.where(mask, xp.sign(x) * g / cnt, 0)
            else:
                a = xp.abs(x)
                scale = xp.where(out == 0, 0, g / out ** (p - 1))
                gx = xp.sign(x) * a ** (p - 1) * scale
        return gx.astype(x.dtype, copy=False), None, None, None


class LogSumExp(Op):
    node_name = "LogsumexpBackward0"
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        if x.ndim == 0:
            ctx.save_for_backward(x, x)
            ctx.axes = axes
            ctx.keepdim = keepdim
            return x.copy()
        m = xp.max(x, axis=axes, keepdims=True) if x.size else \
            xp.zeros([1 if i in axes else n for i, n in enumerate(x.shape)], x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        with _quiet(xp):
            s = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        return _save_reduced(ctx, x, s, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        xp = ctx.xp
        if x.ndim == 0:
            return g.copy(), None, None
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axes)
        return g * xp.exp(x - s), None, None


class Cumsum(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.ndim == 0:
            return x.copy()
        return ctx.xp.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        if g.ndim == 0:
            return g, None
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim), None


def _acc_dtype(x: Tensor, dtype):
    """torch.sum of int/bool tensors gives int64; an explicit dtype casts first."""
    if dtype is not None:
        return D.to_dtype(dtype).np
    k = x._data.dtype.kind
    if k in "biu":
        return D.int64.np
    return None


def sum(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data
    axes = _axes(dim, a.ndim)
    npd = _acc_dtype(input, dtype)
    if npd is not None and a.dtype.kind == "f" and npd != a.dtype:
        input = Cast.apply(input, npd)
        npd = None
    if axes is None:
        return Sum.apply(input, None, keepdim, npd)
    return _SUM_DIM.apply(input, axes, keepdim, npd)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .compare import isnan
    from .select import where

    if input._data.dtype.kind != "f":
        return sum(input, dim, keepdim, dtype=dtype)
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {D.scalar_name(input._data.dtype)}")
    axes = _axes(dim, input._data.ndim)
    if axes is None:
        return Mean.apply(input, None, keepdim)
    return _MEAN_DIM.apply(input, axes, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .compare import isnan, logical_not

    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)

    notnan = logical_not(isnan(input))
    return nansum(input, dim, keepdim) / sum(notnan, dim, keepdim).to(input.dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    elif input._data.dtype.kind in "biu":
        input = Cast.apply(input, D.int64.np)
    if dim is None:
        return Prod.apply(input, None, keepdim)
    nd = input._data.ndim
    axis = _wrap_dim(dim, nd)
    return _PROD_DIM.apply(input, None if nd == 0 else axis, keepdim)


def _structseq(name, fields):
    """A torch.return_types type: a named tuple printed on several lines as torch does."""
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"lamina.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                                "__module__": "lamina.return_types"})


class return_types:
    """torch.return_types: named tuples returned by max/min/sort/topk/..."""

    max = _structseq("max", ["values", "indices"])
    min = _structseq("min", ["values", "indices"])
    sort = _structseq("sort", ["values", "indices"])
    topk = _structseq("topk", ["values", "indices"])
    kthvalue = _structseq("kthvalue", ["values", "indices"])
    median = _structseq("median", ["values", "indices"])
    mode = _structseq("mode", ["values", "indices"])
    aminmax = _structseq("aminmax", ["min", "max"])
    var_mean = _structseq("var_mean", ["var", "mean"])
    std_mean = _structseq("std_mean", ["std", "mean"])


def _maxmin(input, dim, keepdim, other, is_max):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .select import maximum, minimum

        return (maximum if is_max else minimum)(input, dim)
    if other is not None:
        from .select import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    a = input._data
    name = "max" if is_max else "min"
    if dim is None:
        if a.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                               f"argument.")
        return _MAX_MIN_ALL[is_max].apply(input, None, False, is_max)
    d = _wrap_dim(dim, a.ndim)
    xp = backend(input._device).xp
    rt = getattr(return_types, name)
    if a.ndim == 0:
        idx = xp.zeros((), dtype=xp.int64)
        return rt(_MAX_MIN_DIM[is_max].apply(input, None, True, idx),
                  _make(idx, input._device))
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if a.size == 0:
        shape = a.shape[:d] + ((1,) if keepdim else ()) + a.shape[d + 1:]
        idx = xp.zeros(shape, xp.int64)
        return rt(_make(xp.zeros(shape, a.dtype), input._device), _make(idx, input._device))
    idx = (xp.argmax if is_max else xp.argmin)(a, axis=d)
    if a.dtype.kind == "f":
        # torch propagates nan: an index of a nan wins
        nanm = xp.isnan(a)
        if nanm.any():
            idx = xp.where(nanm.any(axis=d), xp.argmax(nanm, axis=d), idx)
    idx = idx.astype(xp.int64)
    ie = idx if not keepdim else xp.expand_dims(idx, d)
    vals = _MAX_MIN_DIM[is_max].apply(input, d, keepdim, ie)
    return rt(vals, _make(ie, input._device))


def max(input, dim=None, keepdim=False, *, other=None):
    return _maxmin(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):
    return _maxmin(input, dim, keepdim, other, False)


def _amaxmin(input, dim, keepdim, is_max):
    a = input._data
    axes = _axes(dim, a.ndim)
    if a.size == 0:
        name = "amax" if is_max else "amin"
        for ax in range(a.ndim) if axes is None else axes:
            if a.shape[ax] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {ax} to have non-zero size.")
    return _AMAX_AMIN[is_max].apply(input, axes, keepdim, is_max)


def amax(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False):
    return _amaxmin(input, dim, keepdim, False)


def aminmax(input, *, dim=None, keepdim=False):
    d = () if dim is None else dim
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def _arg(input, dim, keepdim, fn):
    xp = backend(input._device).xp
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError(f"{fn}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{fn}(): Expected reduction dim to be specified for input.numel() "
                             f"== 0.")
        r = getattr(xp, fn)(a.reshape(-1)).astype(xp.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _make(xp.asarray(r), input._device)
    d = _wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _make(xp.zeros((), xp.int64), input._device)
    if a.shape[d] == 0:
        raise IndexError(f"{fn}(): Expected reduction dim {d} to have non-zero size.")
    r = getattr(xp, fn)(a, axis=d, keepdims=keepdim)
    return _make(r.astype(xp.int64), input._device)


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(name, input, dim, unbiased, correction):
    if isinstance(dim, builtins.bool):  # var(x, False): positional unbiased
        unbiased, dim = dim, None
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, input._data.ndim)
    corr = _correction(unbiased, correction)
    if _count(input._data, axes) - corr <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    return axes, corr


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    axes, corr = _var_args("var", input, dim, unbiased, correction)
    return Var.apply(input, axes, corr, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    axes, corr = _var_args("std", input, dim, unbiased, correction)
    return Std.apply(input, axes, corr, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return return_types.var_mean(var(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return return_types.std_mean(std(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    if input._data.dtype.kind != "f":
        input = Cast.apply(input, D.get_default_dtype().np)
    nd = input._data.ndim
    axes = _axes(dim, nd)
    if axes is None:
        if nd:
            raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                               f"[{', '.join(['1'] * nd)}]")
        axes = ()
    return LogSumExp.apply(input, axes, keepdim)


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    elif input._data.dtype.kind in "biu":
        input = Cast.apply(input, D.int64.np)
    return Cumsum.apply(input, _wrap_dim(dim, input._data.ndim))


def cumprod(input, dim, *, dtype=None):
    from .unary import exp, log

    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    elif input._data.dtype.kind in "biu":
        input = Cast.apply(input, D.int64.np)
    d = _wrap_dim(dim, input._data.ndim)
    if input.requires_grad and STATE.enabled:
        if not (input._data > 0).all():
            raise RuntimeError("lamina: cumprod backward supports positive inputs only")
        return exp(cumsum(log(input), d))
    xp = backend(input._device).xp
    if input._data.ndim == 0:
        return _make(input._data.copy(), input._device)
    return _make(xp.cumprod(input._data, axis=d), input._device)


def all(input, dim=None, keepdim=False):
    xp = backend(input._device).xp
    return _make(xp.asarray(xp.all(input._data, axis=_axes(dim, input._data.ndim),
                                   keepdims=keepdim)), input._device)


def any(input, dim=None, keepdim=False):
    xp = backend(input._device).xp
    return _make(xp.asarray(xp.any(input._data, axis=_axes(dim, input._data.ndim),
                                   keepdims=keepdim)), input._device)


def count_nonzero(input, dim=None):
    xp = backend(input._device).xp
    r = xp.count_nonzero(input._data, axis=_axes(dim, input._data.ndim))
    return _make(xp.asarray(r, dtype=xp.int64), input._device)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: vector p-norms over dims (fro / 2 by default, inf, -inf, 0, any p)."""
    if out is not None:
        from .inplace import write_out

        return write_out(out, norm(input, p, dim, keepdim, dtype=dtype), "norm")
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {D.scalar_name(input._data.dtype)}")
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"lamina: norm(p={p!r}) is not supported; use a number, 'fro', inf "
                           f"or -inf")
    p = float(p)
    if p == int(p) if p not in (float("inf"), float("-inf")) else False:
        p = int(p)
    nd = input._data.ndim
    axes = _axes(dim, nd)
    if axes is not None and nd == 0:
        axes = None
    if p == float("-inf") and input._data.size == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the -inf norm on an empty tensor "
                           "because the operation does not have an identity")
    return Norm.apply(input, p, axes, keepdim)


def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


def dist(input, other, p=2):
    return norm(input - other, p)


# the public names of this module's ops (ops/_registry.py): torch.X and Tensor.X unless marked
for _fn in (sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax, argmax, argmin, var,
            std, logsumexp, all, any, count_nonzero, dist):
    register(_fn)
register(cumsum, inplace=True)
register(cumprod, inplace=True)
register(norm, method=_norm_method)
register(var_mean, method=False)
register(std_mean, method=False)
