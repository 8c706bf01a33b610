"""Unary math: neg / abs / sign, exp and log, the trigonometric and hyperbolic functions,
sigmoid / tanh / relu, rounding, with torch's integer-to-float promotion."""

from __future__ import annotations

from .. import _dtype as D
from .._backends import _workspace as _ws
from .._backends.numpy_backend import parallel_unary
from .._device import backend
from .._tensor import _make
from ..autograd.grad_mode import STATE
from ._op import Op
from ._registry import export, register
from .arithmetic import pow, sub
from .cast import Cast
from .promotion import _copy


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
    """``ufunc(x)``; on the cpu, large arrays go to a recycled result array and the largest
    are split over the cores (numpy_backend.parallel_unary)."""
    if x.nbytes >= _ws.RESULT_MIN_BYTES and xp.__name__ == "numpy":
        return parallel_unary(ufunc, x)
    return ufunc(x)


def _unary_op(name, f, saves_out, grad, node_name=None):
    """The Op of one ``_UNARY`` row: y = f(xp, x), saving y (``saves_out``) or x, and the
    input's gradient ``grad(xp, g, saved)``. forward / backward are made per row (no shared
    method that looks the row up: that would cost every call an attribute lookup)."""
    if saves_out:
        def forward(ctx, x):
            out = f(ctx.xp, x)
            ctx.save_for_backward(out)
            return out
    else:
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return f(ctx.xp, x)

    def backward(ctx, g):
        return grad(ctx.xp, g, ctx.saved[0])

    body = {"forward": staticmethod(forward), "backward": staticmethod(backward),
            "__module__": __name__, "__qualname__": name,
            "__doc__": f"{name}: one row of ops.unary._UNARY."}
    if node_name:
        body["node_name"] = node_name
    return type(name, (Op,), body)


_LN2, _LN10 = 0.6931471805599453, 2.302585092994046
_X, _OUT = False, True  # what a row saves: the input or the output

# public names (aliases after the first), Op class, forward, saves, gradient from (g, saved)
# and, where torch's differs from the class name + "Backward0", the node name;
# the expressions are torch's derivative formulas, operation for operation (same rounding).
# Each name gets lamina.X, Tensor.X, Tensor.X_ and lamina.X_; integer inputs are promoted to
# the default float dtype first (torch.exp(int_tensor) is float).
_UNARY = (
    ("exp", "Exp", lambda xp, x: _unary(xp, xp.exp, x), _OUT, lambda xp, g, y: g * y),
    ("expm1", "Expm1", lambda xp, x: xp.expm1(x), _OUT, lambda xp, g, y: g * (y + 1)),
    ("log", "Log", lambda xp, x: _unary(xp, xp.log, x), _X, lambda xp, g, x: g / x),
    ("log2", "Log2", lambda xp, x: xp.log2(x), _X,
     lambda xp, g, x: g / (x * x.dtype.type(_LN2))),
    ("log10", "Log10", lambda xp, x: xp.log10(x), _X,
     lambda xp, g, x: g / (x * x.dtype.type(_LN10))),
    ("log1p", "Log1p", lambda xp, x: xp.log1p(x), _X, lambda xp, g, x: g / (x + 1),
     "Log1PBackward0"),
    ("sqrt", "Sqrt", lambda xp, x: xp.sqrt(x), _OUT, lambda xp, g, y: g / (2 * y)),
    ("rsqrt", "Rsqrt", lambda xp, x: 1 / xp.sqrt(x), _OUT,
     lambda xp, g, y: g * (-0.5) * y * y * y),
    ("reciprocal", "Reciprocal", lambda xp, x: 1 / x, _OUT, lambda xp, g, y: -g * y * y),
    ("sin", "Sin", lambda xp, x: xp.sin(x), _X, lambda xp, g, x: g * xp.cos(x)),
    ("cos", "Cos", lambda xp, x: xp.cos(x), _X, lambda xp, g, x: -g * xp.sin(x)),
    ("tan", "Tan", lambda xp, x: xp.tan(x), _OUT, lambda xp, g, y: g * (1 + y * y)),
    ("tanh", "Tanh", lambda xp, x: _unary(xp, xp.tanh, x), _OUT,
     lambda xp, g, y: g * (1 - y * y)),
    (("asin", "arcsin"), "Asin", lambda xp, x: xp.arcsin(x), _X,
     lambda xp, g, x: g * (1 / xp.sqrt(1 - x * x))),
    (("acos", "arccos"), "Acos", lambda xp, x: xp.arccos(x), _X,
     lambda xp, g, x: g * (-1 / xp.sqrt(1 - x * x))),
    (("atan", "arctan"), "Atan", lambda xp, x: xp.arctan(x), _X,
     lambda xp, g, x: g * (1 / (1 + x * x))),
    ("sinh", "Sinh", lambda xp, x: xp.sinh(x), _X, lambda xp, g, x: g * xp.cosh(x)),
    ("cosh", "Cosh", lambda xp, x: xp.cosh(x), _X, lambda xp, g, x: g * xp.sinh(x)),
    (("asinh", "arcsinh"), "Asinh", lambda xp, x: xp.arcsinh(x), _X,
     lambda xp, g, x: g * (1 / xp.sqrt(x * x + 1))),
    (("acosh", "arccosh"), "Acosh", lambda xp, x: xp.arccosh(x), _X,
     lambda xp, g, x: g * (1 / xp.sqrt((x - 1) * (x + 1)))),
    (("atanh", "arctanh"), "Atanh", lambda xp, x: xp.arctanh(x), _X,
     lambda xp, g, x: g * (1 / (1 - x * x))),
)

def sigmoid_array(xp, x, stable=False):
    """1 / (1 + exp(-x)) on a backend array: the one sigmoid of lamina, in torch's two numerics.

    ``stable=False`` is torch.sigmoid's: three in-place passes (the stable form costs ~8);
    exp(-x) overflows to inf below x = -88 and 1 / (1 + inf) = 0 is torch's value there
    (float16 is computed in float32, as torch's CPU kernel does; 0-d goes through (1,)).
    ``stable=True`` forms only exp(-|x|), so the far tails keep their tiny values, as the
    sigmoids inside torch's silu / mish / softplus / logsigmoid / glu kernels do (their
    gradients at x = -100 are 3.8e-44, not 0).
    """
    if stable:
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1.0, e) / (1.0 + e)
    xf = x.reshape(1) if not x.ndim else x
    if xf.dtype == xp.float16:
        xf = xf.astype(xp.float32)
    es = getattr(xp, "errstate", None)
    if es is not None:
        neg = xp.negative(xf, out=_ws.empty(xp, xf.shape, xf.dtype)) \
            if xf.nbytes >= _ws.RESULT_MIN_BYTES else -xf
        with es(over="ignore"):
            out = _unary(xp, xp.exp, neg)
    else:
        out = xp.exp(-xf)
    out += 1
    xp.reciprocal(out, out=out)
    if out.dtype != x.dtype or not x.ndim:
        out = out.astype(x.dtype).reshape(x.shape)
    return out


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        out = sigmoid_array(ctx.xp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        t = ctx.xp.subtract(1, out, out=_ws.result(ctx.xp, out.shape, out.dtype)) \
            if out.nbytes >= _ws.RESULT_MIN_BYTES and out.shape == g.shape else 1 - out
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
    if x.nbytes >= _ws.RESULT_MIN_BYTES and x.ndim:
        return xp.maximum(x, z, out=_ws.result(xp, x.shape, x.dtype))
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
        y = ctx.saved[0]
        if g.nbytes >= _ws.RESULT_MIN_BYTES and g.shape == y.shape:
            return ctx.xp.multiply(g, y > 0, out=_ws.result(ctx.xp, g.shape, g.dtype))
        return g * (y > 0)


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


def _float_unary(op, name):
    """The public function of a float op: integer inputs are promoted to the default float
    dtype (torch.exp(int))."""

    def f(input):
        if input._data.dtype.kind != "f":
            input = Cast.apply(input, D.get_default_dtype().np)
        return op.apply(input)

    f.__name__ = f.__qualname__ = name
    return f


for _names, _cls, *_row in _UNARY:
    _names = (_names,) if isinstance(_names, str) else _names
    globals()[_cls] = _op = _unary_op(_cls, *_row)
    globals()[_names[0]] = register(_float_unary(_op, _names[0]), *_names, inplace="torch")
del _names, _cls, _row, _op

sigmoid = register(_float_unary(Sigmoid, "sigmoid"), inplace="torch", functional=True)
register(tanh, function=False, method=False, functional=True)  # F.tanh


@export('neg', 'negative', inplace='torch', dunders=('__neg__',))
def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg.apply(input)


def _no_bool(input, kernel):
    if input._data.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


@export('abs', 'absolute', inplace='torch', dunders=('__abs__',))
def abs(input):
    _no_bool(input, "abs_cpu")
    return Abs.apply(input)


@export(inplace='torch')
def square(input):
    if input._data.dtype.kind == "b":
        input = Cast.apply(input, D.int64.np)
    return pow(input, 2)


@export(inplace="torch")
def relu(input):
    if input._requires_grad and STATE.enabled:  # (a bool tensor never requires grad)
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


@export(inplace=True)
def sign(input):
    if input._data.dtype.kind == "b":
        return _copy(input)
    return Sign.apply(input)


@export(inplace='torch')
def floor(input):
    _no_bool(input, "floor_vml_cpu")
    return Floor.apply(input) if input._data.dtype.kind == "f" else _copy(input)


@export(inplace='torch')
def ceil(input):
    _no_bool(input, "ceil_vml_cpu")
    return Ceil.apply(input) if input._data.dtype.kind == "f" else _copy(input)


@export('trunc', 'fix', inplace='torch')
def trunc(input):
    _no_bool(input, "trunc_vml_cpu")
    return Trunc.apply(input) if input._data.dtype.kind == "f" else _copy(input)


@export(inplace='torch')
def round(input, *, decimals=0):
    _no_bool(input, "round_vml_cpu")
    if input._data.dtype.kind != "f":
        if decimals:
            raise RuntimeError(f'"round_decimals" not implemented for '
                               f"'{D.scalar_name(input._data.dtype)}'")
        return _copy(input)
    if decimals:
        return RoundDecimals.apply(input, decimals)
    return Round.apply(input, decimals)


@export(inplace='torch')
def frac(input):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{D.scalar_name(input._data.dtype)}\'')
    return sub(input, trunc(input))


@export(inplace='torch')
def nan_to_num(input, nan=None, posinf=None, neginf=None):
    xp = backend(input._device).xp
    if nan is None:
        nan = 0.0
    return _make(xp.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf),
                 input._device)


register(lambda self: self, "__pos__", function=False)
