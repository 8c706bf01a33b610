"""Binary arithmetic with broadcasting and PyTorch's promotion: + - * / // % **, lerp,
addcmul / addcdiv (one ``Op`` per node torch shows)."""

from __future__ import annotations

import math
import operator

from .. import _dtype as D
from .._backends import _workspace as _ws
from .._device import backend
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from ._op import Op, binary_method, sum_to_shape
from ._registry import export, register
from .linalg import matmul
from .promotion import _PY_SCALARS, _binary_dtype, _is_bool, _prep, _shape


class Add(Op):
    """z = x + y, broadcasting (either may be a Python scalar)."""

    unrecorded = staticmethod(operator.add)  # forward's array op, for calls without a node

    @staticmethod
    def forward(ctx, x, y):
        if ctx.needs_input_grad is not None:  # a recorded node: backward un-broadcasts
            ctx.sx = _shape(x)
            ctx.sy = _shape(y)
            return _ws.arith(ctx.xp, ctx.xp.add, x, y)
        return x + y

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (sum_to_shape(g, ctx.sx) if n[0] else None,
                sum_to_shape(g, ctx.sy) if n[1] else None)


class Sub(Op):
    """z = x - y."""

    unrecorded = staticmethod(operator.sub)

    @staticmethod
    def forward(ctx, x, y):
        if ctx.needs_input_grad is not None:  # a recorded node: backward un-broadcasts
            ctx.sx = _shape(x)
            ctx.sy = _shape(y)
            return _ws.arith(ctx.xp, ctx.xp.subtract, x, y)
        return x - y

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (sum_to_shape(g, ctx.sx) if n[0] else None,
                sum_to_shape(-g, ctx.sy) if n[1] else None)


class RsubScalar(Op):
    """z = s - x for a Python scalar s (torch.rsub(x, s), ``s - x``)."""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, s, x):
        return s - x

    @staticmethod
    def backward(ctx, g):
        return None, -g


class Rsub(Sub):
    """torch.rsub(x, y) = y - x on two tensors (applied as Sub(y, x))."""

    node_name = "RsubBackward0"


class Mul(Op):
    """z = x * y."""

    unrecorded = staticmethod(operator.mul)

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _ws.arith(ctx.xp, ctx.xp.multiply, x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
        return (sum_to_shape(_ws.arith(xp, xp.multiply, g, y), _shape(x)) if n[0] else None,
                sum_to_shape(_ws.arith(xp, xp.multiply, g, x), _shape(y)) if n[1] else None)


class Div(Op):
    """z = x / y (true division)."""

    unrecorded = staticmethod(operator.truediv)

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _ws.arith(ctx.xp, ctx.xp.divide, x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        n = ctx.needs_input_grad
        gx = sum_to_shape(_ws.arith(ctx.xp, ctx.xp.divide, g, y), _shape(x)) if n[0] else None
        gy = sum_to_shape(-g * x / (y * y), _shape(y)) if n[1] else None
        return gx, gy


class RDivScalar(Op):
    """z = s / x for a Python scalar s (torch computes it as ``x.reciprocal() * s``)."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, s, x):
        out = s / x
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        return None, -g * out / x


class Pow(Op):
    """z = x ** y for a tensor x and a Python scalar y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x)
        ctx.y = y
        return x ** y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        y = ctx.y
        if y == 0:
            return ctx.xp.zeros_like(g), None
        return g * (y * x ** (y - 1)), None


class PowTensor(Op):
    """z = x ** y for two tensors (broadcasting)."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, x, y):
        out = x ** y
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
        gx = gy = None
        if n[0]:
            gx = sum_to_shape(xp.where(y == 0, 0, g * y * x ** (y - 1)), x.shape)
        if n[1]:
            # torch: d/dy = out * log(x), defined as 0 where x == 0 and y >= 0
            zero = (x == 0) & (y >= 0)
            gy = sum_to_shape(xp.where(zero, 0, g * out * xp.log(xp.where(zero, 1, x))),
                              y.shape)
        return gx, gy


class RPowScalar(Op):
    """z = s ** x for a Python scalar base s."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, s, x):
        out = s ** x
        ctx.save_for_backward(out)
        # a Python float keeps the gradient in x's dtype (NumPy's weak scalars)
        ctx.log_s = math.log(s) if s > 0 else (float("-inf") if s == 0 else float("nan"))
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        if ctx.log_s == float("-inf"):  # 0 ** x: torch defines the gradient as 0 there
            return None, ctx.xp.zeros_like(g)
        return None, g * out * ctx.log_s


@export(inplace=True, fast='add', idunders=('__iadd__',))
def add(input, other, *, alpha=1, out=None):
    a, b = _prep(input, other)
    if alpha != 1:
        r = Add.apply(a, mul(b, alpha))
    else:
        r = Add.apply(a, b)
    if out is not None:
        from .inplace import write_out

        return write_out(out, r, "add")
    return r


def _sub_check(a, b):
    ba, bb = _is_bool(a), _is_bool(b)
    if ba and bb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if ba or bb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


@export('sub', 'subtract', inplace=True, fast='subtract', idunders=('__isub__',))
def sub(input, other, *, alpha=1, out=None):
    if _is_bool(input) or _is_bool(other):
        _sub_check(input, other)
    a, b = _prep(input, other)
    if alpha != 1:
        b = mul(b, alpha)
    r = RsubScalar.apply(a, b) if a.__class__ in _PY_SCALARS else Sub.apply(a, b)
    if out is not None:
        from .inplace import write_out

        return write_out(out, r, "sub")
    return r


@export(method=False)
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    if _is_bool(input) or _is_bool(other):
        _sub_check(other, input)
    a, b = _prep(input, other)
    if alpha != 1:
        a = mul(a, alpha)
    if b.__class__ in _PY_SCALARS:
        return RsubScalar.apply(b, a)
    if a.__class__ in _PY_SCALARS:
        return Sub.apply(b, a)
    return Rsub.apply(b, a)


def _rsub_dunder(self, other):
    return rsub(self, other)


@export('mul', 'multiply', inplace=True, fast='multiply', idunders=('__imul__',))
def mul(input, other):
    a, b = _prep(input, other)
    return Mul.apply(a, b)


@export('div', 'divide', 'true_divide', inplace=True, fast='true_divide', dunders=('__truediv__',), idunders=('__itruediv__',))
def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        a, b = _prep(input, other, true_div=True)
        if a.__class__ in _PY_SCALARS:
            return RDivScalar.apply(a, b)
        return Div.apply(a, b)
    if rounding_mode == "trunc":
        from .unary import trunc  # unary imports this module (square is pow, frac uses sub)

        return trunc(div(input, other)).to(_binary_dtype(input, other))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


@export(inplace=True, dunders=('__floordiv__',), idunders=('__ifloordiv__',))
def floor_divide(input, other):
    a, b = _prep(input, other)
    if isinstance(a, Tensor):
        return _make(a._data // (b._data if isinstance(b, Tensor) else b), a._device)
    return _make(a // b._data, b._device)


@export(inplace=True, dunders=('__mod__',), idunders=('__imod__',))
def remainder(input, other):
    a, b = _prep(input, other)
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    if (isinstance(a, Tensor) and a.requires_grad) and STATE.enabled:
        return sub(a, mul(floor_divide(a, b), b))
    dev = a._device if isinstance(a, Tensor) else b._device
    xp = backend(dev).xp
    return _make(xp.remainder(xa, xb), dev)


@export(inplace=True)
def fmod(input, other):
    a, b = _prep(input, other)
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    dev = a._device if isinstance(a, Tensor) else b._device
    return _make(backend(dev).xp.fmod(xa, xb), dev)


@export(inplace=True, dunders=('__pow__',), idunders=('__ipow__',))
def pow(input, exponent):
    a, b = _prep(input, exponent)
    if b.__class__ is bool and a._data.dtype.kind == "b":  # stays bool, as in torch
        xp = backend(a._device).xp
        return _make(a._data.copy() if b else xp.ones_like(a._data), a._device)
    if b.__class__ in _PY_SCALARS:
        if b.__class__ is int and b < 0 and a._data.dtype.kind in "iub":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return Pow.apply(a, b)
    if a.__class__ in _PY_SCALARS:
        return RPowScalar.apply(a, b)
    if a._data.dtype.kind == "b" and b._data.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if b._data.dtype.kind in "iu" and (b._data < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return PowTensor.apply(a, b)


@export(inplace=True)
def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else input
    b = exponent.double() if isinstance(exponent, Tensor) else exponent
    return pow(a, b)


class Lerp(Op):
    """out = x + w * (end - x) with a Python scalar weight."""

    @staticmethod
    def forward(ctx, x, end, w):
        ctx.sx = x.shape
        ctx.se = end.shape
        ctx.w = w
        return x + w * (end - x)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        w = ctx.w
        return (sum_to_shape(g * (1 - w), ctx.sx) if n[0] else None,
                sum_to_shape(g * w, ctx.se) if n[1] else None, None)


class LerpTensor(Op):
    """out = x + w * (end - x) with a tensor weight (all three broadcast)."""

    node_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, x, end, w):
        d = end - x
        ctx.save_for_backward(w, d)
        ctx.sx = x.shape
        ctx.se = end.shape
        return x + w * d

    @staticmethod
    def backward(ctx, g):
        w, d = ctx.saved
        n = ctx.needs_input_grad
        return (sum_to_shape(g * (1 - w), ctx.sx) if n[0] else None,
                sum_to_shape(g * w, ctx.se) if n[1] else None,
                sum_to_shape(g * d, w.shape) if n[2] else None)


@export(inplace=True)
def lerp(input, end, weight):
    _check_float("lerp", input)
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"expected dtype {D.scalar_name(input._data.dtype)} for `end` but got dtype "
                           f"{D.scalar_name(end._data.dtype)}")
    if isinstance(weight, Tensor):
        if weight._data.dtype != input._data.dtype:
            raise RuntimeError(f"expected dtype {D.scalar_name(input._data.dtype)} for `weight` but got "
                               f"dtype {D.scalar_name(weight._data.dtype)}")
        return LerpTensor.apply(input, end, weight)
    return Lerp.apply(input, end, weight)


def _check_float(name, t):
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_kernel_scalar" not implemented for '
                                  f"'{D.scalar_name(t._data.dtype)}'")


@export(inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    return add(input, mul(mul(tensor1, tensor2), value))


@export(inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    return add(input, mul(div(tensor1, tensor2), value))


def _r(fn):
    def r(self, other):
        return fn(other, self)

    return r




register(_rsub_dunder, "__rsub__", function=False)
register(_r(div), "__rtruediv__", function=False)
register(_r(floor_divide), "__rfloordiv__", function=False)
register(_r(remainder), "__rmod__", function=False)
register(_r(pow), "__rpow__", function=False)
# the operators: a float Tensor with one of its dtype or a Python number goes straight to the
# op (ops._op.binary_method); anything else through the public function, which promotes
register(binary_method(Add, add), "__add__", "__radd__", function=False)
register(binary_method(Sub, sub), "__sub__", function=False)
register(binary_method(Mul, mul), "__mul__", "__rmul__", function=False)
register(matmul, "__matmul__", function=False)
register(_r(matmul), "__rmatmul__", function=False)
