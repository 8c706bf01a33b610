"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumsum, all/any, argmax."""

from __future__ import annotations

import builtins
from collections import namedtuple

from .. import _dtype as D
from .._device import backend
from .._tensor import Tensor, _make, _wrap_dim
from ._op import Op
from .elementwise import Cast

_sum = builtins.sum


def _axes(dim, ndim):
    """Normalize torch's dim (None, int, tuple/list) to a numpy axis (None or tuple)."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        return tuple(sorted(_wrap_dim(d, ndim) for d in dim))
    return (_wrap_dim(dim, ndim),)


def _expand_back(g, shape, axes, keepdim, xp):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim and axes is not None and len(shape):
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


class Sum(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim, npdtype):
        ctx.shape = x.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        return ctx.xp.sum(x, axis=axes, keepdims=keepdim, dtype=npdtype)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim, ctx.xp), None, None, None


class Mean(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape = x.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        out = ctx.xp.mean(x, axis=axes, keepdims=keepdim)
        if out.dtype != x.dtype:  # numpy returns float64 scalars for some inputs
            out = out.astype(x.dtype)
        ctx.n = x.size // builtins.max(out.size, 1) if x.size else 0
        return out

    @staticmethod
    def backward(ctx, g):
        gx = _expand_back(g / g.dtype.type(ctx.n), ctx.shape, ctx.axes, ctx.keepdim, ctx.xp)
        return gx, None, None


class Prod(Op):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        out = ctx.xp.prod(x, axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        ctx.keepdim = keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = ctx.xp
        axes = None if ctx.axis is None else (ctx.axis,)
        g = _expand_back(g, x.shape, axes, ctx.keepdim, xp)
        o = _expand_back(out, x.shape, axes, ctx.keepdim, xp)
        zero = x == 0
        if not zero.any():
            return g * o / x, None, None
        # with zeros: product of all other elements, computed by exclusive cumprods
        ax = ctx.axis
        xf = x.reshape(-1) if ax is None else x
        a = 0 if ax is None else ax
        left = xp.cumprod(xf, axis=a)
        left = xp.concatenate([xp.ones_like(xp.take(left, [0], axis=a)),
                               xp.take(left, range(xf.shape[a] - 1), axis=a)], axis=a)
        rev = xp.flip(xf, axis=a)
        right = xp.cumprod(rev, axis=a)
        right = xp.concatenate([xp.ones_like(xp.take(right, [0], axis=a)),
                                xp.take(right, range(xf.shape[a] - 1), axis=a)], axis=a)
        others = left * xp.flip(right, axis=a)
        return g * others.reshape(x.shape), None, None


class MaxMin(Op):
    """Values of max/min along dims (amax/amin semantics: ties share the gradient)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        xp = ctx.xp
        out = (xp.max if is_max else xp.min)(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        ctx.keepdim = keepdim
        if not keepdim:
            out = out.reshape(() if axes is None else
                              tuple(n for i, n in enumerate(x.shape) if i not in axes))
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = ctx.xp
        mask = x == out
        cnt = mask.sum(axis=ctx.axes, keepdims=True)
        if not ctx.keepdim:
            g = g.reshape(out.shape)
        return xp.where(mask, g / cnt.astype(g.dtype), 0).astype(g.dtype), None, None, None


class MaxMinDim(Op):
    """max/min along one dim returning values; the gradient goes to the selected index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, idx):
        xp = ctx.xp
        ie = xp.expand_dims(idx, dim) if not keepdim else idx
        out = xp.take_along_axis(x, ie, axis=dim)
        ctx.save_for_backward(ie)
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.keepdim = keepdim
        return out if keepdim else xp.squeeze(out, dim)

    @staticmethod
    def backward(ctx, g):
        (ie,) = ctx.saved
        xp = ctx.xp
        gx = xp.zeros(ctx.shape, g.dtype)
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.dim)
        xp.put_along_axis(gx, ie, g, axis=ctx.dim)
        return gx, None, None, None


class Var(Op):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        xp = ctx.xp
        mean = xp.mean(x, axis=axes, keepdims=True)
        n = x.size // builtins.max(mean.size, 1) if x.size else 0
        d = x - mean
        out = xp.sum(d * d, axis=axes, keepdims=keepdim) / x.dtype.type(builtins.max(n - correction, 0))
        ctx.save_for_backward(d)
        ctx.axes = axes
        ctx.keepdim = keepdim
        ctx.den = builtins.max(n - correction, 0)
        return out.astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved
        xp = ctx.xp
        g = _expand_back(g, d.shape, ctx.axes, ctx.keepdim, xp)
        return g * d * d.dtype.type(2.0 / ctx.den if ctx.den else float("nan")), None, None, None


class LogSumExp(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        m = xp.max(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, s)
        ctx.axes = axes
        ctx.keepdim = keepdim
        if not keepdim:
            s = s.reshape(tuple(n for i, n in enumerate(s.shape) if i not in axes))
        return s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        xp = ctx.xp
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axes)
        return g * xp.exp(x - s), None, None


class Cumsum(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return ctx.xp.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim), None


def _acc_dtype(x: Tensor, dtype):
    """torch.sum of int/bool tensors gives int64; an explicit dtype casts first."""
    if dtype is not None:
        return D.to_dtype(dtype).np
    k = x._data.dtype.kind
    if k in "biu":
        return D.int64.np
    return None


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch.sum
    a = input._data
    axes = _axes(dim, a.ndim)
    npd = _acc_dtype(input, dtype)
    if npd is not None and a.dtype.kind == "f" and npd != a.dtype:
        input = Cast.apply(input, npd)
        npd = None
    return Sum.apply(input, axes, keepdim, npd)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan, where

    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}")
    return Mean.apply(input, _axes(dim, input._data.ndim), keepdim)


def nanmean(input, dim=None, keepdim=False):
    from .elementwise import isnan, logical_not

    notnan = logical_not(isnan(input))
    return nansum(input, dim, keepdim) / sum(notnan, dim, keepdim).to(input.dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    elif input._data.dtype.kind in "biu":
        input = Cast.apply(input, D.int64.np)
    axis = None if dim is None else _wrap_dim(dim, input._data.ndim)
    return Prod.apply(input, axis, keepdim)


_MinMax = namedtuple("min_max", ["values", "indices"])


class return_types:
    """torch.return_types: named tuples returned by max/min/sort/topk/..."""

    max = namedtuple("max", ["values", "indices"])
    min = namedtuple("min", ["values", "indices"])
    sort = namedtuple("sort", ["values", "indices"])
    topk = namedtuple("topk", ["values", "indices"])
    kthvalue = namedtuple("kthvalue", ["values", "indices"])
    median = namedtuple("median", ["values", "indices"])
    mode = namedtuple("mode", ["values", "indices"])
    aminmax = namedtuple("aminmax", ["min", "max"])
    var_mean = namedtuple("var_mean", ["var", "mean"])
    std_mean = namedtuple("std_mean", ["std", "mean"])


def _maxmin(input, dim, keepdim, other, is_max):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, dim)
    if other is not None:
        from .elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    a = input._data
    name = "max" if is_max else "min"
    if a.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        return MaxMin.apply(input, None, False, is_max)
    d = _wrap_dim(dim, a.ndim)
    xp = backend(input._device).xp
    if a.ndim == 0:
        idx = xp.zeros((), dtype=xp.int64)
        return getattr(return_types, name)(input.clone(), _make(idx, input._device))
    idx = (xp.argmax if is_max else xp.argmin)(a, axis=d)
    if a.dtype.kind == "f":
        # torch propagates nan: an index of a nan wins
        nanm = xp.isnan(a)
        if nanm.any():
            idx = xp.where(nanm.any(axis=d), xp.argmax(nanm, axis=d), idx)
    idx = idx.astype(xp.int64)
    ie = idx if not keepdim else xp.expand_dims(idx, d)
    vals = MaxMinDim.apply(input, d, keepdim, ie)
    return getattr(return_types, name)(vals, _make(ie, input._device))


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - torch.max
    return _maxmin(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - torch.min
    return _maxmin(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim=False):
    return MaxMin.apply(input, _axes(dim, input._data.ndim), keepdim, True)


def amin(input, dim=(), keepdim=False):
    return MaxMin.apply(input, _axes(dim, input._data.ndim), keepdim, False)


def aminmax(input, *, dim=None, keepdim=False):
    d = () if dim is None else dim
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def _arg(input, dim, keepdim, fn):
    xp = backend(input._device).xp
    a = input._data
    if dim is None:
        r = getattr(xp, fn)(a.reshape(-1)).astype(xp.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _make(xp.asarray(r), input._device)
    d = _wrap_dim(dim, a.ndim)
    r = getattr(xp, fn)(a, axis=d, keepdims=keepdim) if a.ndim else xp.asarray(0)
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


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, builtins.bool):  # var(x, False): positional unbiased
        unbiased, dim = dim, None
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, _axes(dim, input._data.ndim), _correction(unbiased, correction),
                     keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    from .elementwise import sqrt

    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return return_types.var_mean(var(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return return_types.std_mean(std(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    if input._data.dtype.kind != "f":
        input = Cast.apply(input, D.get_default_dtype().np)
    return LogSumExp.apply(input, _axes(dim, input._data.ndim) or
                           tuple(range(input._data.ndim)), keepdim)


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    elif input._data.dtype.kind in "biu":
        input = Cast.apply(input, D.int64.np)
    return Cumsum.apply(input, _wrap_dim(dim, input._data.ndim))


def cumprod(input, dim, *, dtype=None):
    from .elementwise import exp, log

    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    d = _wrap_dim(dim, input._data.ndim)
    if input.requires_grad and not (input._data > 0).all():
        raise RuntimeError("lamina: cumprod backward supports positive inputs only")
    if input.requires_grad:
        return exp(cumsum(log(input), d))
    xp = backend(input._device).xp
    return _make(xp.cumprod(input._data, axis=d), input._device)


def all(input, dim=None, keepdim=False):  # noqa: A001 - torch.all
    xp = backend(input._device).xp
    return _make(xp.asarray(xp.all(input._data, axis=_axes(dim, input._data.ndim),
                                   keepdims=keepdim)), input._device)


def any(input, dim=None, keepdim=False):  # noqa: A001 - torch.any
    xp = backend(input._device).xp
    return _make(xp.asarray(xp.any(input._data, axis=_axes(dim, input._data.ndim),
                                   keepdims=keepdim)), input._device)


def count_nonzero(input, dim=None):
    xp = backend(input._device).xp
    r = xp.count_nonzero(input._data, axis=_axes(dim, input._data.ndim))
    return _make(xp.asarray(r, dtype=xp.int64), input._device)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: p-norms over dims (fro / 2 by default, inf, -inf, 0, any p)."""
    from .elementwise import abs as _abs
    from .elementwise import pow as _pow
    from .elementwise import sqrt

    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np)
    if p is None or p == "fro" or p == 2:
        return sqrt(sum(input * input, dim, keepdim))
    if p == float("inf"):
        return amax(_abs(input), () if dim is None else dim, keepdim)
    if p == float("-inf"):
        return amin(_abs(input), () if dim is None else dim, keepdim)
    if p == 0:
        return sum((input != 0).to(input.dtype), dim, keepdim)
    if p == 1:
        return sum(_abs(input), dim, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    return _pow(sum(_pow(_abs(input), p), dim, keepdim), 1.0 / p)


def dist(input, other, p=2):
    return norm(input - other, p)


TENSOR_METHODS = {
    "sum": sum, "nansum": nansum, "mean": mean, "nanmean": nanmean, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "logsumexp": logsumexp,
    "cumsum": cumsum, "cumprod": cumprod, "all": all, "any": any,
    "count_nonzero": count_nonzero, "norm": norm, "dist": dist,
}

FUNCTIONS = list(TENSOR_METHODS) + ["var_mean", "std_mean", "return_types"]
__all__ = list(FUNCTIONS)
