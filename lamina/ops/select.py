"""Elementwise selection: maximum / minimum, clamp (scalar or tensor bounds) and where, with the
gradient routed to the input each element came from."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ._op import Op, sum_to_shape
from ._registry import export
from .cast import Cast, cast
from .promotion import _FROM_NP, _PY_SCALARS, _prep, _shape, _to_tensor_operand


class Maximum(Op):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return _minmax_grads(ctx, g, x, y, x > y)


class Minimum(Op):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return _minmax_grads(ctx, g, x, y, x < y)


def _minmax_grads(ctx, g, x, y, x_wins):
    # ties split the gradient evenly, as torch does
    tie = (x == y) * 0.5
    wx = x_wins + tie
    n = ctx.needs_input_grad
    gx = sum_to_shape(g * wx.astype(g.dtype), _shape(x)) if n[0] else None
    gy = sum_to_shape(g * (1 - wx).astype(g.dtype), _shape(y)) if n[1] else None
    return gx, gy


@export(inplace=True)
def maximum(input, other):
    a, b = _prep(input, other)
    return Maximum.apply(a, b)


@export(inplace=True)
def minimum(input, other):
    a, b = _prep(input, other)
    return Minimum.apply(a, b)


def _clamp_arrays(xp, x, lo, hi):
    """x clamped to [lo, hi] (either bound None: unbounded); x itself where both are None.
    With lo > hi, hi wins (torch's order: max first, then min)."""
    out = x
    if lo is not None:
        out = xp.maximum(out, lo)
    if hi is not None:
        out = xp.minimum(out, hi)
    return out


def _within(x, lo, hi):
    """Where x lies inside [lo, hi] (at least one bound not None): clamp's gradient mask."""
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


class Clamp(Op):
    """clamp(x, min, max) with Python scalar (or None) bounds."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        out = _clamp_arrays(xp, x, lo, hi)
        if out is x:
            out = x.copy()
        ctx.save_for_backward(x)
        ctx.lo = lo
        ctx.hi = hi
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * _within(x, ctx.lo, ctx.hi), None, None


class ClampTensor(Op):
    """clamp(x, min, max) with tensor bounds (or None); all broadcast together."""

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        out = _clamp_arrays(xp, x, lo, hi)
        ctx.save_for_backward(x, lo, hi)
        ctx.shape = out.shape
        return xp.broadcast_to(out, out.shape).copy() if out is x else out

    @staticmethod
    def backward(ctx, g):
        # torch's clamp_backward and clamp_backward_min_max: with min > max, max wins
        x, lo, hi = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
        mask = _within(x, lo, hi)
        gx = sum_to_shape(xp.where(mask, g, 0), x.shape) if n[0] else None
        glo = ghi = None
        if n[1]:
            m = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = sum_to_shape(xp.where(m, g, 0), lo.shape)
        if n[2]:
            m = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = sum_to_shape(xp.where(m, g, 0), hi.shape)
        return gx, glo, ghi


class Where(Op):
    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        ctx.sx = _shape(x)
        ctx.sy = _shape(y)
        return ctx.xp.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
        gx = sum_to_shape(xp.where(cond, g, 0), ctx.sx) if n[1] else None
        gy = sum_to_shape(xp.where(cond, 0, g), ctx.sy) if n[2] else None
        return None, gx, gy


@export('clamp', 'clip', inplace='torch')
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = min if isinstance(min, Tensor) or min is None else _to_tensor_operand(min, input)
        hi = max if isinstance(max, Tensor) or max is None else _to_tensor_operand(max, input)
        # one result dtype for the three operands, by torch's promotion rules
        x = input
        for t in (lo, hi):
            if t is not None:
                x, _ = _prep(x, t)
        dt = x._data.dtype
        input = cast(input, _FROM_NP[dt])
        lo = None if lo is None else cast(lo, _FROM_NP[dt])
        hi = None if hi is None else cast(hi, _FROM_NP[dt])
        return ClampTensor.apply(input, lo, hi)
    for b in (min, max):
        if b is not None and b.__class__ not in _PY_SCALARS:
            if hasattr(b, "item"):  # NumPy scalars
                return clamp(input, None if min is None else _py(min),
                             None if max is None else _py(max))
            raise TypeError(f"clamp(): argument 'min' must be Number or Tensor, not "
                            f"{type(b).__name__}")
    if input._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        input = Cast.apply(input, D.get_default_dtype().np)
    return Clamp.apply(input, min, max)


def _py(v):
    return v.item() if hasattr(v, "item") else v


@export(inplace='torch')
def clamp_min(input, min):
    return clamp(input, min, None)


@export(inplace='torch')
def clamp_max(input, max):
    return clamp(input, None, max)


@export(method=lambda self, condition, other: where(condition, self, other))
def where(condition, input=None, other=None):
    if input is None and other is None:
        from .index import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _to_tensor_operand(input, condition)
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        if isinstance(input, Tensor) and isinstance(other, Tensor) or isinstance(input, Tensor):
            input, other = _prep(input, other)
        else:
            other, input = _prep(other, input)
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {D.scalar_name(condition._data.dtype)}")
    return Where.apply(condition, input, other)


export("fmax")(maximum)
export("fmin")(minimum)
