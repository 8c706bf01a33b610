"""Elementwise ops: arithmetic, comparisons, unary math, casts and device copies."""

from __future__ import annotations

import math

from .. import _dtype as D
from .._device import backend, to_device
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from .._backends.numpy_backend import PARALLEL_MIN, parallel_unary
from ._op import Op, sum_to_shape

_FROM_NP = D._FROM_NP
_PY_SCALARS = (int, float, bool)


def _shape(x):
    return getattr(x, "shape", ())


# ---------------------------------------------------------------------- casts and devices
class Cast(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, npdtype):
        ctx.src = x.dtype
        return x.astype(npdtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


class ToDevice(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dev):
        src = _device_of_array(x)
        ctx.src = src
        return backend(dev).from_numpy(backend(src).to_numpy(x))

    @staticmethod
    def backward(ctx, g):
        return backend(ctx.src).from_numpy(_to_numpy(g)), None

    @classmethod
    def apply(cls, x, dev):
        # the output lives on `dev`, unlike every other op: build the node by hand
        dev = to_device(dev)
        if dev.type == "meta":
            raise RuntimeError("lamina has no meta tensors; use lazy modules to defer shapes")
        src = x._device
        out = backend(dev).from_numpy(backend(src).to_numpy(x._data))
        if x.requires_grad and STATE.enabled:
            ctx = cls._node(cls, backend(dev).xp)
            ctx.src = src
            ctx.needs_input_grad = [True, False]
            ctx.next = [x if x.grad_fn is None else (x.grad_fn, x._out), None]
            return _make(out, dev, True, ctx, 0)
        return _make(out, dev)


def _to_numpy(a):
    return a.get() if hasattr(a, "get") else a


def _device_of_array(a):
    from .._device import CPU, device

    if hasattr(a, "device") and hasattr(a.device, "id"):
        return device("cuda", a.device.id)
    return CPU


def cast(x: Tensor, dt) -> Tensor:
    if x._data.dtype == dt.np:
        return x
    return Cast.apply(x, dt.np)


# ---------------------------------------------------------------------- promotion
def _result_dtype(a: Tensor, b: Tensor):
    da, db = _FROM_NP[a._data.dtype], _FROM_NP[b._data.dtype]
    if da is db:
        return da
    za, zb = a._data.ndim == 0, b._data.ndim == 0
    if za == zb:
        return D.promote_types(da, db)
    dim, zero = (da, db) if zb else (db, da)
    if zero._cat > dim._cat:
        return zero if zero._cat == 2 and dim._cat < 2 and zero.is_floating_point else \
            D.promote_types(dim, zero)
    return dim


def _to_tensor_operand(x, like: Tensor):
    """Turn a non-Tensor operand (NumPy array / scalar) into a Tensor on like's device."""
    from .._creation import tensor

    return tensor(x, device=like._device)


_INT_RANGE = {n: (lo, hi, hi - lo + 1) for n, lo, hi in (
    ("uint8", 0, 255), ("int8", -128, 127), ("int16", -2 ** 15, 2 ** 15 - 1),
    ("int32", -2 ** 31, 2 ** 31 - 1), ("int64", -2 ** 63, 2 ** 63 - 1))}


def _prep(a, b, true_div=False):
    """Apply PyTorch's promotion to a binary op's operands; returns (a, b) ready for apply."""
    if a.__class__ is not Tensor and not isinstance(a, Tensor):
        if a.__class__ in _PY_SCALARS:
            b2, a2 = _prep(b, a, true_div)
            return a2, b2
        a = _to_tensor_operand(a, b)
    if isinstance(b, Tensor):
        da = a._data.dtype
        if da is not b._data.dtype:
            rt = _result_dtype(a, b)
            if true_div and not rt.is_floating_point:
                rt = D.get_default_dtype()
            a = cast(a, rt)
            b = cast(b, rt)
        elif true_div and da.kind != "f":
            rt = D.get_default_dtype()
            a = cast(a, rt)
            b = cast(b, rt)
        return a, b
    c = b.__class__
    if c is float:
        if a._data.dtype.kind != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
    elif c is int:
        k = a._data.dtype.kind
        if true_div and k != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
        elif k == "b":
            a = Cast.apply(a, D.int64.np)
        elif k != "f":
            r = _INT_RANGE[a._data.dtype.name]
            if not r[0] <= b <= r[1]:  # torch wraps an out-of-range int like C does
                b = (b - r[0]) % r[2] + r[0]
    elif c is bool:
        if true_div and a._data.dtype.kind != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
    else:
        return _prep(a, _to_tensor_operand(b, a), true_div)
    return a, b


# ---------------------------------------------------------------------- binary arithmetic
class Add(Op):
    """z = x + y, broadcasting (either may be a Python scalar)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.sx = _shape(x)
        ctx.sy = _shape(y)
        return x + y

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (sum_to_shape(g, ctx.sx) if n[0] else None,
                sum_to_shape(g, ctx.sy) if n[1] else None)


class Sub(Op):
    """z = x - y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.sx = _shape(x)
        ctx.sy = _shape(y)
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

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        n = ctx.needs_input_grad
        return (sum_to_shape(g * y, _shape(x)) if n[0] else None,
                sum_to_shape(g * x, _shape(y)) if n[1] else None)


class Div(Op):
    """z = x / y (true division)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        n = ctx.needs_input_grad
        gx = sum_to_shape(g / y, _shape(x)) if n[0] else None
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


def _is_bool(x) -> bool:
    return x.__class__ is bool or (isinstance(x, Tensor) and x._data.dtype.kind == "b")


def _sub_check(a, b):
    ba, bb = _is_bool(a), _is_bool(b)
    if ba and bb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if ba or bb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


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


def mul(input, other):
    a, b = _prep(input, other)
    return Mul.apply(a, b)


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        a, b = _prep(input, other, true_div=True)
        if a.__class__ in _PY_SCALARS:
            return RDivScalar.apply(a, b)
        return Div.apply(a, b)
    if rounding_mode == "trunc":
        return trunc(div(input, other)).to(_binary_dtype(input, other))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


true_divide = div
divide = div
subtract = sub
multiply = mul


def _binary_dtype(a, b):
    a2, b2 = _prep(a, b)
    return a2.dtype if isinstance(a2, Tensor) else b2.dtype


def floor_divide(input, other):
    a, b = _prep(input, other)
    if isinstance(a, Tensor):
        return _make(a._data // (b._data if isinstance(b, Tensor) else b), a._device)
    return _make(a // b._data, b._device)


def remainder(input, other):
    a, b = _prep(input, other)
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    if (isinstance(a, Tensor) and a.requires_grad) and STATE.enabled:
        return sub(a, mul(floor_divide(a, b), b))
    dev = a._device if isinstance(a, Tensor) else b._device
    xp = backend(dev).xp
    return _make(xp.remainder(xa, xb), dev)


def fmod(input, other):
    a, b = _prep(input, other)
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    dev = a._device if isinstance(a, Tensor) else b._device
    return _make(backend(dev).xp.fmod(xa, xb), dev)


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


def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else input
    b = exponent.double() if isinstance(exponent, Tensor) else exponent
    return pow(a, b)


def maximum(input, other):
    a, b = _prep(input, other)
    return Maximum.apply(a, b)


def minimum(input, other):
    a, b = _prep(input, other)
    return Minimum.apply(a, b)


fmax = maximum
fmin = minimum


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


def lerp(input, end, weight):
    _check_float("lerp", input)
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"expected dtype {_scalar_name(input)} for `end` but got dtype "
                           f"{_scalar_name(end)}")
    if isinstance(weight, Tensor):
        if weight._data.dtype != input._data.dtype:
            raise RuntimeError(f"expected dtype {_scalar_name(input)} for `weight` but got "
                               f"dtype {_scalar_name(weight)}")
        return LerpTensor.apply(input, end, weight)
    return Lerp.apply(input, end, weight)


def _check_float(name, t):
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_kernel_scalar" not implemented for '
                                  f"'{_scalar_name(t)}'")


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}


def _scalar_name(t) -> str:
    """torch's C++ name of a tensor's dtype ('Float', 'Long'), used in its error texts."""
    return _SCALAR_NAMES[t._data.dtype.name]


def addcmul(input, tensor1, tensor2, *, value=1):
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    return add(input, mul(div(tensor1, tensor2), value))


# ---------------------------------------------------------------------- comparisons (no grad)
def _compare(name):
    def cmp(input, other):
        a, b = _prep(input, other)
        if isinstance(a, Tensor):
            dev = a._device
            xa = a._data
        else:
            dev = b._device
            xa = a
        xb = b._data if isinstance(b, Tensor) else b
        if isinstance(b, Tensor) and b._device is not dev and b._device != dev:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {b._device}!")
        return _make(getattr(backend(dev).xp, name)(xa, xb), dev)

    cmp.__name__ = name
    return cmp


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
eq.__name__, ne.__name__, lt.__name__, le.__name__, gt.__name__, ge.__name__ = (
    "eq", "ne", "lt", "le", "gt", "ge")
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def _logical(name):
    def f(input, other=None):
        xp = backend(input._device).xp
        if other is None:
            return _make(getattr(xp, name)(input._data), input._device)
        xb = other._data if isinstance(other, Tensor) else other
        return _make(getattr(xp, name)(input._data, xb), input._device)

    f.__name__ = name
    return f


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")
logical_not = _logical("logical_not")


def _bitwise(name):
    def f(input, other=None):
        if not isinstance(input, Tensor):
            input, other = other, input
        xp = backend(input._device).xp
        if other is None:
            return _make(getattr(xp, name)(input._data), input._device)
        a, b = _prep(input, other)
        xb = b._data if isinstance(b, Tensor) else b
        if a._data.dtype.kind == "f":
            raise RuntimeError(f'"{name}" not implemented for floating-point tensors')
        return _make(getattr(xp, name)(a._data, xb), a._device)

    f.__name__ = name
    return f


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")
bitwise_not = _bitwise("invert")


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    if input.shape != other.shape:
        return False
    return bool(backend(input._device).xp.all(input._data == other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    xp = backend(input._device).xp
    xb = other._data if isinstance(other, Tensor) else other
    return _make(xp.isclose(input._data, xb, rtol=rtol, atol=atol, equal_nan=equal_nan),
                 input._device)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def isnan(input):
    return _make(backend(input._device).xp.isnan(input._data), input._device)


def isinf(input):
    return _make(backend(input._device).xp.isinf(input._data), input._device)


def isfinite(input):
    return _make(backend(input._device).xp.isfinite(input._data), input._device)


# ---------------------------------------------------------------------- unary math
class Neg(Op):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Abs(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * ctx.xp.sign(x)


def _unary(xp, ufunc, x):
    """``ufunc(x)``; on the cpu, large arrays are split over the cores (numpy_backend)."""
    if x.size >= PARALLEL_MIN and xp.__name__ == "numpy":
        return parallel_unary(ufunc, x)
    return ufunc(x)


class Exp(Op):
    @staticmethod
    def forward(ctx, x):
        out = _unary(ctx.xp, ctx.xp.exp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved[0]


class Expm1(Op):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.saved[0] + 1)


class Log(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _unary(ctx.xp, ctx.xp.log, x)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.saved[0]


class Log2(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log2(x)

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved[0]
        return g / (x * x.dtype.type(0.6931471805599453))


class Log10(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log10(x)

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved[0]
        return g / (x * x.dtype.type(2.302585092994046))


class Log1p(Op):
    node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, g):
        return g / (ctx.saved[0] + 1)


class Sqrt(Op):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.saved[0])


class Rsqrt(Op):
    @staticmethod
    def forward(ctx, x):
        out = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return g * (-0.5) * out * out * out


class Reciprocal(Op):
    @staticmethod
    def forward(ctx, x):
        out = 1 / x
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return -g * out * out


class Sin(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.xp.cos(ctx.saved[0])


class Cos(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, g):
        return -g * ctx.xp.sin(ctx.saved[0])


class Tan(Op):
    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return g * (1 + out * out)


class _SavedXUnary(Op):
    """A unary op whose gradient is ``g * dfdx(x)``: the inverse trigonometric and hyperbolic
    functions (forward is NumPy's ufunc ``fn``)."""

    fn = "sinh"

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return getattr(ctx.xp, cls.fn)(x)

    @classmethod
    def backward(cls, ctx, g):
        return g * cls.dfdx(ctx.xp, ctx.saved[0])


class Asin(_SavedXUnary):
    fn = "arcsin"

    @staticmethod
    def dfdx(xp, x):
        return 1 / xp.sqrt(1 - x * x)


class Acos(_SavedXUnary):
    fn = "arccos"

    @staticmethod
    def dfdx(xp, x):
        return -1 / xp.sqrt(1 - x * x)


class Atan(_SavedXUnary):
    fn = "arctan"

    @staticmethod
    def dfdx(xp, x):
        return 1 / (1 + x * x)


class Sinh(_SavedXUnary):
    fn = "sinh"

    @staticmethod
    def dfdx(xp, x):
        return xp.cosh(x)


class Cosh(_SavedXUnary):
    fn = "cosh"

    @staticmethod
    def dfdx(xp, x):
        return xp.sinh(x)


class Asinh(_SavedXUnary):
    fn = "arcsinh"

    @staticmethod
    def dfdx(xp, x):
        return 1 / xp.sqrt(x * x + 1)


class Acosh(_SavedXUnary):
    fn = "arccosh"

    @staticmethod
    def dfdx(xp, x):
        return 1 / xp.sqrt((x - 1) * (x + 1))


class Atanh(_SavedXUnary):
    fn = "arctanh"

    @staticmethod
    def dfdx(xp, x):
        return 1 / (1 - x * x)


class Tanh(Op):
    @staticmethod
    def forward(ctx, x):
        out = _unary(ctx.xp, ctx.xp.tanh, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return g * (1 - out * out)


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # 1 / (1 + exp(-x)) in three in-place passes (the two-branch stable form costs ~8):
        # exp(-x) overflows to inf below x = -88, and 1 / (1 + inf) = 0 is torch's value
        # (float16 is computed in float32, as torch's CPU kernel does; 0-d goes through (1,))
        xf = x.reshape(1) if not x.ndim else x
        if xf.dtype == xp.float16:
            xf = xf.astype(xp.float32)
        es = getattr(xp, "errstate", None)
        if es is not None:
            with es(over="ignore"):
                out = _unary(xp, xp.exp, -xf)
        else:
            out = xp.exp(-xf)
        out += 1
        xp.reciprocal(out, out=out)
        if out.dtype != x.dtype or not x.ndim:
            out = out.astype(x.dtype).reshape(x.shape)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        t = 1 - out
        t *= out
        t *= g  # (1 - out) * out * g: one temporary
        return t


_ZEROS: dict = {}


def relu_arrays(xp, x):
    """max(x, 0) on a backend array: Relu's math, shared with nn.ReLU's no-grad shortcut.

    The zero is a cached 0-d array of x's dtype: a Python 0 costs NumPy a scalar conversion
    per call, a measurable share of a small layer. (A 0-d x gives a NumPy scalar back.)
    """
    key = (xp, x.dtype)
    z = _ZEROS.get(key)
    if z is None:
        z = _ZEROS[key] = xp.zeros((), x.dtype)
    return xp.maximum(x, z)


class Relu(Op):
    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        out = relu_arrays(ctx.xp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.saved[0] > 0)


class Sign(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return ctx.xp.sign(x)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g)


class _ZeroGrad(Op):
    """Piecewise-constant ops (floor, ceil, round, trunc): gradient zero."""

    fn = "floor"

    @classmethod
    def forward(cls, ctx, x):
        return getattr(ctx.xp, cls.fn)(x)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g)


class Floor(_ZeroGrad):
    fn = "floor"


class Ceil(_ZeroGrad):
    fn = "ceil"


class Trunc(_ZeroGrad):
    fn = "trunc"


class Round(Op):
    @staticmethod
    def forward(ctx, x, decimals):
        return ctx.xp.round(x, decimals)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None


class RoundDecimals(Round):
    node_name = "RoundBackward1"


class Clamp(Op):
    """clamp(x, min, max) with Python scalar (or None) bounds."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        if out is x:
            out = x.copy()
        ctx.save_for_backward(x)
        ctx.lo = lo
        ctx.hi = hi
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        lo, hi = ctx.lo, ctx.hi
        if lo is None:
            mask = x <= hi
        elif hi is None:
            mask = x >= lo
        else:
            mask = (x >= lo) & (x <= hi)
        return g * mask, None, None


class ClampTensor(Op):
    """clamp(x, min, max) with tensor bounds (or None); all broadcast together."""

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        ctx.save_for_backward(x, lo, hi)
        ctx.shape = out.shape
        return xp.broadcast_to(out, out.shape).copy() if out is x else out

    @staticmethod
    def backward(ctx, g):
        # torch's clamp_backward and clamp_backward_min_max: with min > max, max wins
        x, lo, hi = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
        if lo is None:
            mask = x <= hi
        elif hi is None:
            mask = x >= lo
        else:
            mask = (x >= lo) & (x <= hi)
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


def _float_unary(cls):
    """A unary op that promotes integer inputs to the default float dtype (torch.exp(int))."""

    def f(input):
        if input._data.dtype.kind != "f":
            input = Cast.apply(input, D.get_default_dtype().np)
        return cls.apply(input)

    return f


exp = _float_unary(Exp)
expm1 = _float_unary(Expm1)
log = _float_unary(Log)
log2 = _float_unary(Log2)
log10 = _float_unary(Log10)
log1p = _float_unary(Log1p)
sqrt = _float_unary(Sqrt)
rsqrt = _float_unary(Rsqrt)
reciprocal = _float_unary(Reciprocal)
sin = _float_unary(Sin)
cos = _float_unary(Cos)
tan = _float_unary(Tan)
tanh = _float_unary(Tanh)
sigmoid = _float_unary(Sigmoid)
asin = _float_unary(Asin)
acos = _float_unary(Acos)
atan = _float_unary(Atan)
sinh = _float_unary(Sinh)
cosh = _float_unary(Cosh)
asinh = _float_unary(Asinh)
acosh = _float_unary(Acosh)
atanh = _float_unary(Atanh)
# NumPy's names, which torch has as aliases
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _f, _n in ((asin, "asin"), (acos, "acos"), (atan, "atan"), (sinh, "sinh"), (cosh, "cosh"),
               (asinh, "asinh"), (acosh, "acosh"), (atanh, "atanh"),
               (exp, "exp"), (expm1, "expm1"), (log, "log"), (log2, "log2"), (log10, "log10"),
               (log1p, "log1p"), (sqrt, "sqrt"), (rsqrt, "rsqrt"), (reciprocal, "reciprocal"),
               (sin, "sin"), (cos, "cos"), (tan, "tan"), (tanh, "tanh"), (sigmoid, "sigmoid")):
    _f.__name__ = _n


def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg.apply(input)


negative = neg


def _no_bool(input, kernel):
    if input._data.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def abs(input):
    _no_bool(input, "abs_cpu")
    return Abs.apply(input)


absolute = abs


def square(input):
    if input._data.dtype.kind == "b":
        input = Cast.apply(input, D.int64.np)
    return pow(input, 2)


def relu(input):
    if input._rg and STATE.enabled:  # (a bool tensor never requires grad)
        return Relu.apply(input)
    x = input._data
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    # nothing to record: the math without building a node (nn.ReLU's fast path)
    dev = input._device
    b = dev._backend
    if b is None:
        return Relu.apply(input)
    out = relu_arrays(b.xp, x)
    if out.__class__ is not b.array_type:  # a 0-d input gives a NumPy scalar
        out = b.xp.asarray(out)
    return _make(out, dev)


def sign(input):
    if input._data.dtype.kind == "b":
        return _copy(input)
    return Sign.apply(input)


def floor(input):
    _no_bool(input, "floor_vml_cpu")
    return Floor.apply(input) if input._data.dtype.kind == "f" else _copy(input)


def ceil(input):
    _no_bool(input, "ceil_vml_cpu")
    return Ceil.apply(input) if input._data.dtype.kind == "f" else _copy(input)


def trunc(input):
    _no_bool(input, "trunc_vml_cpu")
    return Trunc.apply(input) if input._data.dtype.kind == "f" else _copy(input)


fix = trunc


def round(input, *, decimals=0):
    _no_bool(input, "round_vml_cpu")
    if input._data.dtype.kind != "f":
        if decimals:
            raise RuntimeError(f'"round_decimals" not implemented for '
                               f"'{_scalar_name(input)}'")
        return _copy(input)
    if decimals:
        return RoundDecimals.apply(input, decimals)
    return Round.apply(input, decimals)


def frac(input):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{_scalar_name(input)}\'')
    return sub(input, trunc(input))


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


def _copy(t):
    """A fresh copy of a tensor that cannot require grad (integer / bool dtypes)."""
    return _make(t._data.copy(), t._device)


def _py(v):
    return v.item() if hasattr(v, "item") else v


clip = clamp


def clamp_min(input, min):
    return clamp(input, min, None)


def clamp_max(input, max):
    return clamp(input, None, max)


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
                           f"with dtype {_scalar_name(condition)}")
    return Where.apply(condition, input, other)


def nan_to_num(input, nan=None, posinf=None, neginf=None):
    xp = backend(input._device).xp
    if nan is None:
        nan = 0.0
    return _make(xp.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf),
                 input._device)


# ---------------------------------------------------------------------- dunders
def _r(fn):
    def r(self, other):
        return fn(other, self)

    return r


def _matmul(a, b):
    from .linalg import matmul

    return matmul(a, b)


def _invert(self):
    if self._data.dtype.kind == "b":
        return logical_not(self)
    return bitwise_not(self)


TENSOR_METHODS = {
    "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": _rsub_dunder,
    "__mul__": mul, "__rmul__": mul, "__truediv__": div, "__rtruediv__": _r(div),
    "__floordiv__": floor_divide, "__rfloordiv__": _r(floor_divide),
    "__mod__": remainder, "__rmod__": _r(remainder),
    "__pow__": pow, "__rpow__": _r(pow), "__matmul__": _matmul, "__rmatmul__": _r(_matmul),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs, "__invert__": _invert,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": bitwise_and, "__ror__": bitwise_or, "__rxor__": bitwise_xor,
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "floor_divide": floor_divide, "remainder": remainder,
    "fmod": fmod, "pow": pow, "float_power": float_power, "maximum": maximum,
    "minimum": minimum, "fmax": fmax, "fmin": fmin, "lerp": lerp, "addcmul": addcmul,
    "addcdiv": addcdiv, "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "less": lt, "less_equal": le, "greater": gt, "greater_equal": ge, "not_equal": ne,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not, "equal": equal,
    "isclose": isclose, "allclose": allclose, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "neg": neg, "negative": neg, "abs": abs, "absolute": abs,
    "exp": exp, "expm1": expm1, "log": log, "log2": log2, "log10": log10, "log1p": log1p,
    "sqrt": sqrt, "rsqrt": rsqrt, "reciprocal": reciprocal, "sin": sin, "cos": cos,
    "tan": tan, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "sign": sign,
    "floor": floor, "ceil": ceil, "trunc": trunc, "fix": trunc, "round": round,
    "frac": frac, "square": square, "clamp": clamp, "clip": clamp, "clamp_min": clamp_min,
    "clamp_max": clamp_max, "where": lambda self, condition, other: where(condition, self, other),
    "nan_to_num": nan_to_num, "asin": asin, "acos": acos, "atan": atan, "sinh": sinh,
    "cosh": cosh, "asinh": asinh, "acosh": acosh, "atanh": atanh, "arcsin": asin,
    "arccos": acos, "arctan": atan, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh,
}

FUNCTIONS = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "float_power", "maximum", "minimum", "fmax",
    "fmin", "lerp", "addcmul", "addcdiv", "eq", "ne", "lt", "le", "gt", "ge", "less",
    "less_equal", "greater", "greater_equal", "not_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "equal", "isclose", "allclose", "isnan", "isinf", "isfinite", "neg", "negative", "abs",
    "absolute", "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
    "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sign", "floor", "ceil",
    "trunc", "fix", "round", "frac", "square", "clamp", "clip", "clamp_min", "clamp_max",
    "where", "nan_to_num", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
]
__all__ = list(FUNCTIONS)
