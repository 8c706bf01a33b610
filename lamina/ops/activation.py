"""Activation ops: fused stable softmax / log_softmax, the ReLU family, ELU/SELU/CELU, GELU
(with an erf accurate to float64, and to 1 float32 ulp in float32), SiLU, Mish, softplus, the
shrink functions, GLU and PReLU.

Each op is one node whose name is torch's (``EluBackward0``, ``GeluBackward0``, ...). The
``nn.functional`` twins (``inplace=``, implicit softmax dims) live in ``lamina/nn/functional.py``
and call the functions here.
"""

from __future__ import annotations

from .. import _dtype as D
from .._backends import _workspace as _ws
from .._tensor import Tensor, _wrap_dim
from ._op import Op, sum_to_shape
from ._registry import register
from .cast import Cast
from .unary import Relu, sigmoid_array
from .inplace import inplace_of

def _need_float(x: Tensor, kernel: str) -> None:
    """torch's dtype error for float-only kernels (``"GeluKernelImpl" not implemented ...``)."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"{kernel}\" not implemented for "
                           f"'{D.scalar_name(x._data.dtype)}'")


# ---------------------------------------------------------------------- numerics helpers
def _softplus(xp, x):
    """log(1 + exp(x)) without overflow."""
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


# erf: NumPy has none, so lamina carries its own, evaluated in float64 with xp ops only.
# Chebyshev series fitted (40-digit mpmath, interpolation at Chebyshev nodes) to
#   |x| < 1:      erf(x) = x * h(2x^2 - 1),           h(t) = erf(sqrt t) / sqrt t on [0, 1]
#   1 <= |x| < 6: erf(x) = 1 - exp(-x^2) / |x| * g(u), g = |x| exp(x^2) erfc(|x|) as a
#                 function of s = 1/|x| on [1/6, 1], u = (2s - 7/6) / (5/6)
#   |x| >= 6:     erf(x) = +-1 exactly in float64 (erfc(6) = 2.2e-17 < half an ulp of 1).
# Measured against mpmath on 20,000 points in [-7, 7] plus tiny arguments: max relative error
# 2.3e-16 (libm's erf: 2.2e-16), i.e. correctly rounded float32 results after the cast.
_ERF_H = (0.9754769393826541, -0.14226120510371365, 0.010035582187599796,
          -0.0005768764699767485, 2.741993125219606e-05, -1.1043175507344507e-06,
          3.8488755420345036e-08, -1.1808582533875466e-09, 3.2334215826050907e-11,
          -7.991015947004549e-13, 1.7990725113961456e-14, -3.718635487818693e-16,
          7.103599003714253e-18)
_ERF_G = (0.49471361578208073, -0.06627963187965226, -0.0022764645742360114,
          0.001717245128146866, -0.00032014496358247316, 2.6743225983670515e-05,
          3.968695744344053e-06, -2.2059099609177132e-06, 5.18822760986672e-07,
          -6.999918836906682e-08, -9.071270087834272e-10, 3.81951552192842e-09,
          -1.3416438565181666e-09, 2.947892218032652e-10, -3.786760799975439e-11,
          -2.167147256147601e-12, 3.1122292821541805e-12, -1.1363842124992395e-12,
          2.7739855277970216e-13, -4.45906676376279e-14, 1.0733133056291638e-15,
          2.4789530202320656e-15, -1.1596680074384575e-15, 3.456896098695936e-16,
          -7.485760390998475e-17, 9.669918104089653e-18, 9.012191620329248e-19,
          -1.1147721561727043e-18)
_TWO_OVER_SQRT_PI = 1.1283791670955126
_SQRT1_2 = 0.7071067811865476


def _clenshaw(coef, u):
    """sum_k coef[k] T_k(u) (Chebyshev polynomials) by Clenshaw's recurrence."""
    u2 = u + u
    b1 = u2 * coef[-1] + coef[-2]
    b2 = coef[-1]
    for c in coef[-3:0:-1]:
        b1, b2 = u2 * b1 - b2 + c, b1
    return u * b1 - b2 + coef[0]


# float32 erf: one rational function, erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (|x| >= 4 gives
# +-1, as erf does in float32 beyond 3.92), evaluated in float64 and rounded once. P has degree
# 6, Q degree 5 (monic); the coefficients were fitted (iteratively reweighted, Lawson-style
# linearized least squares on 8,000 Chebyshev nodes in [0, 4], against the float64 series
# above) to max relative error 2.0e-9 = 0.034 float32 ulp, so results are correctly rounded
# except within 0.034 ulp of a tie (measured: every float32 in [0, 4] within 1 ulp of the
# correctly rounded erf). A float32 evaluation of such a rational (Eigen's and XLA's scheme)
# is twice as fast per pass but accumulates ~20 roundings: up to 7 ulp, more than torch's
# float32 erf (0.7 ulp). Against the series path, one branch and no masks: ~27 passes over
# the array instead of ~100 plus boolean indexing.
_ERF32_P = (17879.47369454904, 2934.597335790167, 860.6661042191281, 60.99818074439756,
            6.014990771922144, 0.0742311162418433, -0.00020919068576576272)
_ERF32_Q = (15845.270969016514, 7882.477439334782, 1805.7025394608, 245.0010346390859,
            20.71878850554397)  # + s^5


def _erf_float32(xp, x, scale=None):
    """erf(x) (erf(x * scale) with the product rounded to float32, as torch's GELU kernel
    does) of a float32 array (see _ERF32_P). The float64 temporaries come from the thread's
    workspace (fresh multi-MB arrays would fault their pages in on every call) and are
    updated in place: 25 passes, one fresh float32 result."""
    shape = x.shape
    z = _ws.empty(xp, shape, "float64")
    if scale is not None:
        xp.multiply(x, scale, out=z, dtype="float32")
        xp.clip(z, -4.0, 4.0, out=z)
    else:
        xp.clip(x, -4.0, 4.0, out=z)  # nan stays nan, +-inf -> +-4 -> +-1
    s = _ws.empty(xp, shape, "float64")
    xp.multiply(z, z, out=s)
    p = _ws.empty(xp, shape, "float64")
    xp.multiply(s, _ERF32_P[6], out=p)
    p += _ERF32_P[5]
    for c in _ERF32_P[4::-1]:
        p *= s
        p += c
    q = _ws.empty(xp, shape, "float64")
    xp.add(s, _ERF32_Q[4], out=q)
    for c in _ERF32_Q[3::-1]:
        q *= s
        q += c
    p *= z
    p /= q
    out = _ws.result(xp, shape, "float32")
    out[...] = p  # the one rounding to float32 (the same cast as astype)
    return out


def erf_array(xp, x):
    """erf of a float array, returned in x's dtype: float32 by one rational function
    (``_erf_float32``), other dtypes by the float64 Chebyshev series."""
    dt = x.dtype
    if dt == "float32":
        return _erf_float32(xp, x)
    if x.ndim == 0:  # a scalar has no item assignment (out[big] below)
        return erf_array(xp, x.reshape(1)).reshape(())
    x = x.astype("float64", copy=False)
    a = xp.abs(x)
    out = x * _clenshaw(_ERF_H, xp.minimum(2.0 * a * a - 1.0, 1.0))
    big = a >= 1.0
    if big.any():
        ab = xp.minimum(a[big], 6.0)
        u = (2.0 / ab - 7.0 / 6.0) * 1.2
        erfc = xp.exp(-ab * ab) / ab * _clenshaw(_ERF_G, u)
        out[big] = xp.copysign(1.0 - erfc, x[big])
    return out.astype(dt, copy=False)


class Erf(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * (_TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x))


# ---------------------------------------------------------------------- softmax family
class Softmax(Op):
    """softmax along one axis, fused and stable (the row max is subtracted first)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.size == 0:
            y = x.copy()
        else:
            y = x - x.max(axis=axis, keepdims=True)
            ctx.xp.exp(y, out=y)
            y /= y.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        gy = g * y
        gy -= y * gy.sum(axis=ctx.axis, keepdims=True)
        return gy, None


class LogSoftmax(Op):
    """log_softmax along one axis: x - max - log(sum(exp(x - max)))."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        xp = ctx.xp
        if x.size == 0:
            y = x.copy()
        else:
            y = x - x.max(axis=axis, keepdims=True)
            y -= xp.log(xp.exp(y).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g - ctx.xp.exp(y) * g.sum(axis=ctx.axis, keepdims=True), None


def _softmax_impl(op, input, dim, dtype, kernel):
    if dtype is not None:
        input = Cast.apply(input, D.to_dtype(dtype).np) if isinstance(input, Tensor) else input
    if not isinstance(input, Tensor):
        raise TypeError(f"{kernel}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    _need_float(input, kernel + "_lastdim_kernel_impl")
    nd = input._data.ndim
    if nd == 0:
        _wrap_dim(dim, 0)
        return op.apply(input.reshape(1), 0).reshape(())
    return op.apply(input, _wrap_dim(dim, nd))


def softmax(input, dim, dtype=None):
    """torch.softmax / Tensor.softmax: exp(x) / sum(exp(x)) along ``dim`` (one node)."""
    return _softmax_impl(Softmax, input, dim, dtype, "softmax")


def log_softmax(input, dim, dtype=None):
    """torch.log_softmax / Tensor.log_softmax (one node, stable)."""
    return _softmax_impl(LogSoftmax, input, dim, dtype, "log_softmax")


# ---------------------------------------------------------------------- ReLU family
class LeakyRelu(Op):
    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return ctx.xp.where(x > 0, g, g * ctx.slope), None


class Hardtanh(Op):
    """clamp(x, min_val, max_val); the gradient is zero at and beyond the bounds (torch)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return ctx.xp.where((x > ctx.lo) & (x < ctx.hi), g, 0.0), None, None


class Threshold(Op):
    """x if x > threshold else value (NaN passes through, as in torch)."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.th = threshold
        ctx.save_for_backward(x)
        return ctx.xp.where(x <= threshold, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return ctx.xp.where(x <= ctx.th, 0.0, g), None, None


class Elu(Op):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): ELU, SELU (and CELU)."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = ctx.xp
        ctx.c = (alpha, scale, input_scale)
        ctx.save_for_backward(x)
        neg = xp.expm1(xp.minimum(x, 0.0) * input_scale) * (alpha * scale)
        return xp.where(x > 0, x * scale if scale != 1.0 else x, neg)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = ctx.xp
        alpha, scale, iscale = ctx.c
        # torch takes the negative branch at x == 0
        neg = g * xp.exp(xp.minimum(x, 0.0) * iscale) * (alpha * scale * iscale)
        return xp.where(x > 0, g * scale if scale != 1.0 else g, neg), None, None, None


class Celu(Elu):
    node_name = "CeluBackward0"


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Gelu(Op):
    """x * Phi(x), exact (erf) or with torch's tanh approximation."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = ctx.xp
        ctx.tanh = approximate == "tanh"
        if ctx.tanh:
            inner = (x + 0.044715 * x * x * x) * 0.7978845608028654
            t = xp.tanh(inner)
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1.0 + t)
        # torch's kernel: x * 0.5 * (1 + erf(x * sqrt(1/2))), each step rounded in x's dtype
        if x.dtype == "float32":
            cdf = _erf_float32(xp, x, _SQRT1_2)
        else:
            cdf = erf_array(xp, x * _SQRT1_2)
        cdf += 1.0
        cdf *= 0.5
        ctx.save_for_backward(x, cdf)
        return _ws.arith(xp, xp.multiply, x, cdf)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        x, c = ctx.saved
        if ctx.tanh:
            # torch's gelu_backward for approximate='tanh'
            right = 1.0 + c
            dright = 0.5 * x * (1.0 - c * c) * 0.7978845608028654 * (1.0 + 0.134145 * x * x)
            return g * (0.5 * right + dright), None
        # g * (c + x * pdf), pdf = exp(-x^2 / 2) / sqrt(2 pi): one work array, in place
        t = xp.multiply(x, -0.5, out=_ws.result(xp, x.shape, x.dtype))  # an array if 0-d
        t *= x
        xp.exp(t, out=t)
        t *= 0.3989422804014327
        t *= x
        t += c
        if t.dtype == g.dtype:
            t *= g
            return t, None
        return g * t, None


class Silu(Op):
    """x * sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        s = sigmoid_array(ctx.xp, x, stable=True)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return g * s * (1.0 + x * (1.0 - s))


class Mish(Op):
    """x * tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        t = xp.tanh(_softplus(xp, x))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved
        s = sigmoid_array(ctx.xp, x, stable=True)
        return g * (t + x * s * (1.0 - t * t))


class Hardsigmoid(Op):
    """min(max(x + 3, 0), 6) / 6."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.clip(x + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return ctx.xp.where((x > -3.0) & (x < 3.0), g * (1.0 / 6.0), 0.0)


class Hardswish(Op):
    """x * min(max(x + 3, 0), 6) / 6."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ctx.xp.clip(x + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = ctx.xp
        mid = g * (x / 3.0 + 0.5)
        # torch: zero for x <= -3, the slope below 3, the identity's from 3 on
        return xp.where(x <= -3.0, 0.0, xp.where(x < 3.0, mid, g))


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        z = x * beta if beta != 1 else x
        ctx.c = (beta, threshold)
        ctx.save_for_backward(x)
        sp = _softplus(xp, z)
        if beta != 1:
            sp = sp / beta
        return xp.where(z > threshold, x, sp)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        beta, threshold = ctx.c
        z = x * beta if beta != 1 else x
        return ctx.xp.where(z > threshold, g, g * sigmoid_array(ctx.xp, z, stable=True)), None, None


class LogSigmoid(Op):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))."""

    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * sigmoid_array(ctx.xp, -x, stable=True)


class _Shrink(Op):
    """Hard / soft shrink: the gradient passes where x is outside [-lambd, lambd]."""

    @staticmethod
    def _save_keep(ctx, x, lambd):
        keep = (x < -lambd) | (x > lambd)
        ctx.save_for_backward(keep)
        return keep

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.where(ctx.saved[0], g, 0.0), None


class Hardshrink(_Shrink):
    @staticmethod
    def forward(ctx, x, lambd):
        keep = _Shrink._save_keep(ctx, x, lambd)
        return ctx.xp.where(keep, x, 0.0).astype(x.dtype, copy=False)


class Softshrink(_Shrink):
    @staticmethod
    def forward(ctx, x, lambd):
        xp = ctx.xp
        _Shrink._save_keep(ctx, x, lambd)
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0.0)).astype(
            x.dtype, copy=False)


class Glu(Op):
    """a * sigmoid(b) with (a, b) the two halves of x along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        h = x.shape[axis] // 2
        a, b = xp.split(x, [h], axis=axis)
        s = sigmoid_array(xp, b, stable=True)
        ctx.axis = axis
        ctx.save_for_backward(a, s)
        return a * s

    @staticmethod
    def backward(ctx, g):
        a, s = ctx.saved
        gs = g * s
        return ctx.xp.concatenate([gs, gs * a * (1.0 - s)], axis=ctx.axis), None


class Prelu(Op):
    """x if x > 0 else w * x, with w broadcast over the channel dim (dim 1)."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w, bshape):
        wb = w.reshape(bshape)
        ctx.wshape = w.shape
        ctx.bshape = bshape
        ctx.save_for_backward(x, wb)
        return ctx.xp.where(x > 0, x, wb * x)

    @staticmethod
    def backward(ctx, g):
        x, wb = ctx.saved
        xp = ctx.xp
        n = ctx.needs_input_grad
        pos = x > 0
        gx = xp.where(pos, g, wb * g) if n[0] else None
        gw = None
        if n[1]:
            gw = sum_to_shape(xp.where(pos, 0.0, x * g), ctx.bshape).reshape(ctx.wshape)
        return gx, gw, None


# ---------------------------------------------------------------------- torch-level functions
def erf(input):
    """torch.erf (float64-accurate; float32 within 1 ulp of correctly rounded; see
    ``erf_array``)."""
    if input._data.dtype.kind != "f":
        input = Cast.apply(input, D.get_default_dtype().np)
    return Erf.apply(input)


def leaky_relu(input, negative_slope=0.01):
    _need_float(input, "leaky_relu_cpu")
    return LeakyRelu.apply(input, float(negative_slope))


def hardtanh(input, min_val=-1.0, max_val=1.0):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input):
    return Hardtanh.apply(input, 0.0, 6.0)


def threshold(input, threshold, value):
    return Threshold.apply(input, threshold, value)


def elu(input, alpha=1.0):
    _need_float(input, "elu_cpu")
    return Elu.apply(input, float(alpha), 1.0, 1.0)


def selu(input):
    _need_float(input, "elu_cpu")
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0):
    _need_float(input, "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return Celu.apply(input, float(alpha), 1.0, 1.0 / float(alpha))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _need_float(input, "GeluKernelImpl")
    return Gelu.apply(input, approximate)


def silu(input):
    _need_float(input, "silu_cpu")
    return Silu.apply(input)


def mish(input):
    _need_float(input, "mish_cpu")
    return Mish.apply(input)


def hardsigmoid(input):
    _need_float(input, "hardsigmoid_cpu")
    return Hardsigmoid.apply(input)


def hardswish(input):
    _need_float(input, "hardswish_cpu")
    return Hardswish.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    _need_float(input, "softplus_cpu")
    return Softplus.apply(input, beta, threshold)


def logsigmoid(input):
    _need_float(input, "log_sigmoid_cpu")
    return LogSigmoid.apply(input)


def hardshrink(input, lambd=0.5):
    _need_float(input, "hardshrink_cpu")
    return Hardshrink.apply(input, lambd)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    _need_float(input, "softshrink_cpu")
    return Softshrink.apply(input, lambd)


def glu(input, dim=-1):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = _wrap_dim(dim, nd)
    n = input._data.shape[axis]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {n}")
    _need_float(input, "glu_cpu")
    return Glu.apply(input, axis)


def prelu(input, weight):
    """torch.prelu: ``weight`` has one element or one per channel (dim 1 of input)."""
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{input.dtype.scalar_name} and {weight.dtype.scalar_name}")
    nd = input._data.ndim
    wn = weight._data.size
    if wn != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        ch = input._data.shape[1] if nd > 1 else 1
        if ch != wn:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {wn} and channel size = {ch}.")
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight._data.ndim}")
    bshape = [1] * nd
    if nd > 1:
        bshape[1] = wn
    return Prelu.apply(input, weight, tuple(bshape))


def relu(input):
    return Relu.apply(input)


def _inplace(fn, name):
    m = inplace_of(fn, name)
    m.__doc__ = f"In-place version of ``{fn.__name__}``."
    return m


erf_ = _inplace(erf, "erf_")
leaky_relu_ = _inplace(leaky_relu, "leaky_relu_")
hardtanh_ = _inplace(hardtanh, "hardtanh_")
relu6_ = _inplace(relu6, "relu6_")
threshold_ = _inplace(threshold, "threshold_")
elu_ = _inplace(elu, "elu_")
selu_ = _inplace(selu, "selu_")
celu_ = _inplace(celu, "celu_")
silu_ = _inplace(silu, "silu_")
mish_ = _inplace(mish, "mish_")
hardsigmoid_ = _inplace(hardsigmoid, "hardsigmoid_")
hardswish_ = _inplace(hardswish, "hardswish_")


def _softmax_method(self, dim, dtype=None):
    return softmax(self, dim, dtype)


def _log_softmax_method(self, dim, dtype=None):
    return log_softmax(self, dim, dtype)


# the public names of this module's ops (ops/_registry.py); the nn.functional forms (inplace=,
# implicit softmax dims) are in lamina/nn/functional.py
register(softmax, method=_softmax_method)
register(log_softmax, method=_log_softmax_method)
for _fn in (erf, erf_, hardshrink, prelu):  # torch.X and Tensor.X
    register(_fn)
for _fn in (selu, selu_, celu, celu_, threshold, threshold_):  # torch.X only
    register(_fn, method=False)
for _fn in (gelu, logsigmoid, softshrink, hardshrink, prelu, elu_, celu_, selu_, leaky_relu_,
            hardtanh_, threshold_):  # nn.functional.X (the rest: nn/functional.py)
    register(_fn, function=False, method=False, functional=True)
