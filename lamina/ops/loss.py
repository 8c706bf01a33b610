"""Loss ops and the ``nn.functional`` loss functions (torch's signatures, checks and messages).

Fused nodes where torch fuses: ``cross_entropy`` is ONE node (log-softmax + nll, forward and
backward), as are ``nll_loss``, ``mse_loss``, ``smooth_l1_loss``, ``huber_loss``,
``binary_cross_entropy`` and ``binary_cross_entropy_with_logits``. Losses that torch writes as
compositions (``l1_loss``, ``kl_div``'s reduction, the margin losses, ...) are compositions here
too, so their ``grad_fn`` names match torch's.
"""

from __future__ import annotations

import math
import warnings

from .. import _dtype as D
from .._backends import _workspace as _ws
from .._tensor import Tensor, _wrap_dim
from ._op import Op, sum_to_shape
from ._registry import register
from .activation import Softplus, logsigmoid
from .promotion import _prep
from .unary import sigmoid_array

_NONE, _MEAN, _SUM = 0, 1, 2


# ---------------------------------------------------------------------- reductions (torch's)
def get_enum(reduction: str) -> int:
    """torch.nn._reduction.get_enum: 'none' 0, 'mean' 1, 'sum' 2."""
    if reduction == "mean":
        return _MEAN
    if reduction == "none":
        return _NONE
    if reduction == "sum":
        return _SUM
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return _MEAN
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average, reduce, emit_warning: bool = True) -> str:
    """The deprecated ``size_average`` / ``reduce`` pair turned into a reduction string."""
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _red(size_average, reduce, reduction) -> int:
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    return get_enum(reduction)


def _reduce_arr(loss, red):
    if red == _MEAN:
        n = loss.size
        if not n:
            return loss.dtype.type(float("nan"))
        if loss.dtype.itemsize >= 4:
            # NumPy's mean is this sum and division behind a slow Python wrapper (the same
            # float32 result: the division's double rounding through float64 is exact)
            return loss.sum() / n
        return loss.mean()  # float16: NumPy accumulates in float32, keep that
    if red == _SUM:
        return loss.sum()
    return loss


def _grad_scale(g, red, n):
    """The incoming gradient as a per-element factor (before broadcasting to the loss)."""
    if red == _MEAN:
        return g / n if n else g * float("nan")
    return g


def _apply_reduction(t: Tensor, red: int) -> Tensor:
    if red == _MEAN:
        return t.mean()
    if red == _SUM:
        return t.sum()
    return t


def _size_warning(input, target):
    if input._data.shape != target._data.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size.", stacklevel=3)


def _promote(input, target):
    if not isinstance(target, Tensor) or not isinstance(input, Tensor):
        bad = target if isinstance(input, Tensor) else input
        raise TypeError(f"expected Tensor as element 1 in argument 0, but got "
                        f"{type(bad).__name__}")
    if input._data.dtype is not target._data.dtype:
        return _prep(input, target)
    return input, target


# ---------------------------------------------------------------------- class-index losses
def _to_rows(x, t, prob):
    """(N, C, d1, ...) -> (M, C) with classes last; targets to (M,) or (M, C)."""
    nd = x.ndim
    if nd == 2:
        return x, t
    if nd == 1:
        return x.reshape(1, -1), (t.reshape(1, -1) if prob else t.reshape(1))
    c = x.shape[1]
    xr = x.reshape(x.shape[0], c, -1).transpose(0, 2, 1).reshape(-1, c)
    if prob:
        tr = t.reshape(t.shape[0], c, -1).transpose(0, 2, 1).reshape(-1, c)
    else:
        tr = t.reshape(-1)
    return xr, tr


def _from_rows(g, shape):
    """Inverse of ``_to_rows`` for a (M, C) gradient."""
    nd = len(shape)
    if nd == 2:
        return g
    if nd == 1:
        return g.reshape(shape)
    n, c = shape[0], shape[1]
    return g.reshape(n, -1, c).transpose(0, 2, 1).reshape(shape)


def _pick_targets(xp, t, c, ignore_index):
    """Targets with ignored entries replaced by 0 and the valid mask (None: all valid)."""
    # fast path: all targets in [0, c), so a negative ignore_index (the default -100) cannot
    # occur
    if not (0 <= ignore_index < c) and (not t.size or (int(t.min()) >= 0 and int(t.max()) < c)):
        return t, None
    valid = t != ignore_index
    if valid.all():
        valid = None
        tt = t
    else:
        tt = xp.where(valid, t, 0)
    if tt.size:
        bad = tt[(tt < 0) | (tt >= c)]
        if bad.size:
            raise IndexError(f"Target {int(bad[0])} is out of bounds.")
    return tt, valid


def _log_softmax_rows(xp, x):
    """log_softmax along axis 1 of a (M, C) array, stable (the row max is subtracted)."""
    if not x.size:
        return x.copy()
    if x.shape[1] <= 32:
        # few classes: NumPy reduces short rows slowly; reducing the columns of a transposed
        # copy is ~1.3x faster for the classic (batch, 10) case
        xt = x.T.copy()  # C order; never a view of the input, which is modified below
        mx = xt.max(axis=0)
        xt -= mx
        xp.exp(xt, out=xt)
        lse = xp.log(xt.sum(axis=0))
        lse += mx
        return x - lse[:, None]
    z = _ws.arith(xp, xp.subtract, x, x.max(axis=1, keepdims=True))
    z -= xp.log(xp.exp(z, out=_ws.empty(xp, z.shape, z.dtype)).sum(axis=1, keepdims=True))
    return z


def _picked_rows(xp, z, rows, t2, c, w, ignore_index):
    """Per row of log-probabilities ``z (m, c)`` (``rows`` = arange(m)): the target class
    ``tt``, the not-ignored mask ``valid`` (None: none ignored), the picked values
    ``z[rows, tt]`` and the row weights ``w[tt] * valid`` (None when every row weighs 1)."""
    tt, valid = _pick_targets(xp, t2, c, ignore_index)
    picked = z[rows, tt]
    if w is not None:
        wt = w[tt]
        if valid is not None:
            wt = wt * valid
    elif valid is not None:
        wt = valid.astype(z.dtype)
    else:
        wt = None
    return tt, valid, picked, wt


class CrossEntropy(Op):
    """cross_entropy with class indices: log_softmax + nll in one node.

    With label smoothing eps the per-sample loss is
    (1 - eps) * nll + eps / C * sum_k (-w_k logp_k), both reduced by the same total weight.
    """

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, red, ls):
        xp = ctx.xp
        shape = x.shape
        x2, t2 = _to_rows(x, t, False)
        m, c = x2.shape
        z = _log_softmax_rows(xp, x2)
        rows = xp.arange(m)
        tt, valid, picked, wt = _picked_rows(xp, z, rows, t2, c, w, ignore_index)
        if red == _MEAN and wt is None and not ls:
            # the common case: a plain mean over the batch
            ctx.total = m
            out = picked.sum() / -m if m else z.dtype.type(float("nan"))
            ctx.shape, ctx.red, ctx.ls = shape, red, ls
            ctx.save_for_backward(z, tt, wt, valid, w)
            return out
        loss = -picked if wt is None else -picked * wt
        if ls:
            smooth = -(z * w).sum(axis=1) if w is not None else -z.sum(axis=1)
            if valid is not None:
                smooth *= valid
            loss = (1.0 - ls) * loss + (ls / c) * smooth
        if red == _MEAN:
            total = m if wt is None else wt.sum()
            ctx.total = total
            out = loss.sum() / total if total else z.dtype.type(float("nan"))
        elif red == _SUM:
            out = loss.sum()
        else:
            out = loss.reshape(t.shape)
        ctx.shape = shape
        ctx.red = red
        ctx.ls = ls
        ctx.save_for_backward(z, tt, wt, valid, w)
        return out

    @staticmethod
    def backward(ctx, g):
        z, tt, wt, valid, w = ctx.saved
        xp = ctx.xp
        red, ls = ctx.red, ctx.ls
        m, c = z.shape
        if red == _MEAN:
            # every target ignored: the loss is nan but ignored rows get zero gradient
            cf = g / ctx.total if ctx.total else g * 0.0
        elif red == _SUM:
            cf = g
        else:
            cf = g.reshape(-1)
        rows = xp.arange(m)
        p = xp.exp(z, out=_ws.empty(xp, z.shape, z.dtype))
        a = cf if wt is None else cf * wt
        if ls:
            a = a * (1.0 - ls)
        if red == _NONE or wt is not None or ls:
            a = xp.broadcast_to(a, (m,))
            gx = _ws.arith(xp, xp.multiply, p, a[:, None])
        else:
            gx = _ws.arith(xp, xp.multiply, p, a)
        if not ls:
            gx[rows, tt] -= a
        else:
            # dlogp = -a onehot - b_k with b_k = cf * eps/C * valid * w_k; gx = dlogp - p sum(dlogp)
            b = xp.broadcast_to(cf * (ls / c), (m,))
            if valid is not None:
                b = b * valid
            bk = b[:, None] * w if w is not None else xp.broadcast_to(b[:, None], (m, c))
            gx -= bk
            gx[rows, tt] -= a
            gx += p * bk.sum(axis=1, keepdims=True)
        return _from_rows(gx, ctx.shape), None, None, None, None, None


# the same node under the name of torch's last node: nll_loss2d for 4-D input; a view for
# unreduced (N, C, d1) and (N, C, d1, d2, d3, ...) input (torch reshapes those to 4-D and views
# the loss back); an add with label smoothing
_CE_2D = CrossEntropy.named("NllLoss2DBackward0")
_CE_VIEW = CrossEntropy.named("ViewBackward0")
_CE_SMOOTH = CrossEntropy.named("AddBackward0")


class CrossEntropyProb(Op):
    """cross_entropy with class probabilities (a float target shaped like the input)."""

    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, x, t, w, red, ls):
        xp = ctx.xp
        shape = x.shape
        x2, t2 = _to_rows(x, t, True)
        m, c = x2.shape
        z = _log_softmax_rows(xp, x2)
        if ls:
            t2 = t2 * (1.0 - ls) + ls / c
        tw = t2 * w if w is not None else t2
        loss = -(z * tw).sum(axis=1)
        if red == _MEAN:
            out = loss.sum() / m if m else z.dtype.type(float("nan"))
        elif red == _SUM:
            out = loss.sum()
        else:
            out = loss.reshape((shape[0],) + shape[2:] if len(shape) > 1 else ())
        ctx.shape, ctx.red, ctx.ls = shape, red, ls
        ctx.save_for_backward(z, tw, w)
        return out

    @staticmethod
    def backward(ctx, g):
        z, tw, w = ctx.saved
        xp = ctx.xp
        m = z.shape[0]
        red = ctx.red
        if red == _MEAN:
            cf = g / m
        elif red == _SUM:
            cf = g
        else:
            cf = g.reshape(-1, 1)
        n = ctx.needs_input_grad
        gx = gt = None
        if n[0]:
            d = tw * cf  # -dlogp
            gx = xp.exp(z) * d.sum(axis=1, keepdims=True) - d
            gx = _from_rows(gx, ctx.shape)
        if n[1]:
            gtr = -z * cf
            if w is not None:
                gtr = gtr * w
            if ctx.ls:
                gtr = gtr * (1.0 - ctx.ls)
            gt = _from_rows(gtr, ctx.shape)
        return gx, gt, None, None, None


_CE_PROB_MEAN = CrossEntropyProb.named("DivBackward1")  # the mean ends in a division


class NllLoss(Op):
    """nll_loss on log-probabilities: -w[t] * x[t], weighted mean as torch."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, red):
        xp = ctx.xp
        x2, t2 = _to_rows(x, t, False)
        m, c = x2.shape
        rows = xp.arange(m)
        tt, valid, picked, wt = _picked_rows(xp, x2, rows, t2, c, w, ignore_index)
        loss = -picked if wt is None else -picked * wt
        if red == _MEAN:
            total = m if wt is None else wt.sum()
            ctx.total = total
            out = loss.sum() / total if total else x2.dtype.type(float("nan"))
        elif red == _SUM:
            out = loss.sum()
        else:
            out = loss.reshape(t.shape)
        ctx.shape, ctx.red, ctx.mc = x.shape, red, (m, c)
        ctx.save_for_backward(tt, wt)
        return out

    @staticmethod
    def backward(ctx, g):
        tt, wt = ctx.saved
        xp = ctx.xp
        m, c = ctx.mc
        if ctx.red == _MEAN:
            # every target ignored: the loss is nan but ignored rows get zero gradient
            cf = g / ctx.total if ctx.total else g * 0.0
        elif ctx.red == _SUM:
            cf = g
        else:
            cf = g.reshape(-1)
        a = cf if wt is None else cf * wt
        gx = xp.zeros((m, c), dtype=g.dtype)
        gx[xp.arange(m), tt] = -a
        return _from_rows(gx, ctx.shape), None, None, None, None


_NLL_2D = NllLoss.named("NllLoss2DBackward0")
_NLL_VIEW = NllLoss.named("ViewBackward0")


def _nd_op(nd, red, plain, two_d, view):
    """The variant of a class-index loss named as torch's node for this input rank."""
    if nd <= 2:
        return plain
    return view if red == _NONE and nd != 4 else two_d


def _check_class_target(input, target, weight, name):
    x, t = input._data, target._data
    nd = x.ndim
    if nd < 1:
        raise ValueError("input tensor should be 1D or more")
    if t.dtype.kind not in "iu" or t.dtype.itemsize not in (1, 8) or \
            (t.dtype.itemsize == 1 and t.dtype.kind == "i"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{D.scalar_name(t.dtype)}")
    if nd != 1 and x.shape[0] != (t.shape[0] if t.ndim else None):
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 1}).")
    if nd <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and t.ndim != 0 and t.shape[0] != 1:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                             f"({t.shape[0]}).")
    elif t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"Expected target size {[x.shape[0]] + list(x.shape[2:])}, got "
                           f"{list(t.shape)}")
    c = x.shape[1] if nd > 1 else x.shape[0]
    if weight is not None:
        _check_weight(input, weight, c)


def _check_weight(input, weight, c):
    if weight._data.ndim != 1 or weight._data.shape[0] != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                           f"{weight.dtype.scalar_name}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (N, C, d1, ...) and class indices or class
    probabilities ``target``: log_softmax and nll in one autograd node."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    red = get_enum(reduction)
    x, t = input._data, target._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for "
                           f"'{input.dtype.scalar_name}'")
    ls = float(label_smoothing)
    if x.shape == t.shape:
        if t.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {target.dtype.scalar_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if not 0.0 <= ls <= 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls}")
        if weight is not None:
            _check_weight(input, weight, x.shape[1] if x.ndim > 1 else x.shape[0])
        if t.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                               f"{target.dtype.scalar_name}")
        op = _CE_PROB_MEAN if red == _MEAN else CrossEntropyProb
        return op.apply(input, target, weight, red, ls)
    _check_class_target(input, target, weight, "cross_entropy")
    if ls > 0.0:
        if ls > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {ls}")
        return _CE_SMOOTH.apply(input, target, weight, ignore_index, red, ls)
    op = _nd_op(x.ndim, red, CrossEntropy, _CE_2D, _CE_VIEW)
    return op.apply(input, target, weight, ignore_index, red, 0.0)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of log-probabilities ``input`` (N, C, d1, ...) at ``target``."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    red = get_enum(reduction)
    _check_class_target(input, target, weight, "nll_loss")
    op = _nd_op(input._data.ndim, red, NllLoss, _NLL_2D, _NLL_VIEW)
    return op.apply(input, target, weight, ignore_index, red)


# ---------------------------------------------------------------------- regression losses
class MseLoss(Op):
    @staticmethod
    def forward(ctx, x, t, red):
        d = x - t
        ctx.red = red
        ctx.n = d.size
        ctx.sx, ctx.st = x.shape, t.shape
        ctx.save_for_backward(d)
        return _reduce_arr(d * d, red)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved
        n = ctx.needs_input_grad
        gd = d * (2.0 * _grad_scale(g, ctx.red, ctx.n)) if ctx.red else d * (2.0 * g)
        return (sum_to_shape(gd, ctx.sx) if n[0] else None,
                sum_to_shape(-gd, ctx.st) if n[1] else None, None)


class _SmoothDiffLoss(Op):
    """A pointwise loss of d = x - t with one parameter p (SmoothL1's beta, Huber's delta):
    a subclass gives ``_loss(xp, d, p)`` and ``_dloss(xp, d, p)``, its derivative by d."""

    @staticmethod
    def forward(ctx, x, t, red, p):
        d = x - t
        loss = ctx.op._loss(ctx.xp, d, p)
        ctx.red, ctx.n, ctx.p = red, d.size, p
        ctx.sx, ctx.st = x.shape, t.shape
        ctx.save_for_backward(d)
        return _reduce_arr(loss, red)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved
        n = ctx.needs_input_grad
        gd = ctx.op._dloss(ctx.xp, d, ctx.p) * _grad_scale(g, ctx.red, ctx.n)
        return (sum_to_shape(gd, ctx.sx) if n[0] else None,
                sum_to_shape(-gd, ctx.st) if n[1] else None, None, None)


class SmoothL1Loss(_SmoothDiffLoss):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""

    @staticmethod
    def _loss(xp, d, beta):
        a = xp.abs(d)
        return xp.where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta)

    @staticmethod
    def _dloss(xp, d, beta):
        return xp.clip(d / beta, -1.0, 1.0)


class HuberLoss(_SmoothDiffLoss):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""

    @staticmethod
    def _loss(xp, d, delta):
        a = xp.abs(d)
        return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def _dloss(xp, d, delta):
        return xp.clip(d, -delta, delta)


def _weighted(loss, weight, red, mean_by_weight):
    if weight._data.shape != loss._data.shape:
        raise ValueError("Weights and input must have the same size.")
    wl = loss * weight
    if red == _NONE:
        return wl
    if red == _SUM:
        return wl.sum()
    return wl.sum() / weight.sum() if mean_by_weight else wl.mean()


def _check_weight_shape(input, weight):
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")


def _expand_pair(input, target):
    from .shape import broadcast_tensors

    if input._data.shape != target._data.shape:
        return broadcast_tensors(input, target)
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (one node); ``weight`` scales each element (torch 2.13)."""
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    input, target = _promote(input, target)
    if weight is not None:
        _check_weight_shape(input, weight)
        x, t = _expand_pair(input, target)
        red = _weight_red(reduction)
        return _weighted((x - t) ** 2, weight, red, True)
    red = get_enum(reduction)
    _check_broadcast(input, target)
    return MseLoss.apply(input, target, red)


def _weight_red(reduction):
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         f"'sum'.")
    return {"none": _NONE, "mean": _MEAN, "sum": _SUM}[reduction]


def _check_broadcast(a, b):
    sa, sb = a._data.shape, b._data.shape
    if sa == sb:
        return
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {max(len(sa), len(sb)) - i}")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input - target| reduced (composite, as in torch)."""
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    input, target = _promote(input, target)
    _check_broadcast(input, target)
    if weight is not None:
        _check_weight_shape(input, weight)
        x, t = _expand_pair(input, target)
        return _weighted((x - t).abs(), weight, _weight_red(reduction), True)
    red = get_enum(reduction)
    return _apply_reduction((input - target).abs(), red)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 (one node); ``beta == 0`` is l1_loss, as in torch."""
    _size_warning(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    red = get_enum(reduction)
    input, target = _promote(input, target)
    _check_broadcast(input, target)
    if beta == 0.0:
        return _apply_reduction((input - target).abs(), red)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return SmoothL1Loss.apply(input, target, red, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss (one node); ``weight`` scales each element (torch 2.13)."""
    _size_warning(input, target)
    input, target = _promote(input, target)
    _check_broadcast(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return HuberLoss.apply(input, target, get_enum(reduction), float(delta))
    _check_weight_shape(input, weight)
    loss = HuberLoss.apply(input, target, _NONE, float(delta))
    return _weighted(loss, weight, _weight_red(reduction), False)


# ---------------------------------------------------------------------- binary cross entropy
def _log_clamped(xp, x):
    """max(log(x), -100) without a divide-by-zero warning at x == 0 (torch's BCE clamp)."""
    pos = x > 0
    return xp.where(pos, xp.maximum(xp.log(xp.where(pos, x, 1.0)), -100.0), -100.0)


def _log1m_clamped(xp, x):
    """max(log1p(-x), -100) without a warning at x == 1."""
    ok = x < 1
    return xp.where(ok, xp.maximum(xp.log1p(-xp.where(ok, x, 0.0)), -100.0), -100.0)


class BinaryCrossEntropy(Op):
    @staticmethod
    def forward(ctx, x, t, w, red):
        xp = ctx.xp
        if not ((x >= 0) & (x <= 1)).all():
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not ((t >= 0) & (t <= 1)).all():
            raise RuntimeError("all elements of target should be between 0 and 1")
        lx, l1x = _log_clamped(xp, x), _log1m_clamped(xp, x)
        loss = (t - 1.0) * l1x - t * lx
        if w is not None:
            loss = loss * w
        ctx.red, ctx.n = red, loss.size
        ctx.save_for_backward(x, t, w, lx, l1x)
        return _reduce_arr(loss, red)

    @staticmethod
    def backward(ctx, g):
        x, t, w, lx, l1x = ctx.saved
        xp = ctx.xp
        n = ctx.needs_input_grad
        cf = _grad_scale(g, ctx.red, ctx.n)
        if w is not None:
            cf = cf * w
        gx = gt = gw = None
        if n[0]:
            # torch: (x - t) / max((1 - x) x, 1e-12)
            gx = (x - t) / xp.maximum((1.0 - x) * x, 1e-12) * cf
        if n[1]:
            # torch: -logit(x), infinite at 0 and 1
            gt = xp.where(x <= 0, float("inf"), xp.where(x >= 1, float("-inf"), l1x - lx)) * cf
        if n[2]:
            gw = sum_to_shape(((t - 1.0) * l1x - t * lx) * _grad_scale(g, ctx.red, ctx.n),
                              w.shape)
        return gx, gt, gw, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """BCE between probabilities ``input`` and ``target``; logs clamped at -100 (torch)."""
    red = _red(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    if weight is not None:
        from .shape import broadcast_shapes, expand

        new = broadcast_shapes(tuple(target.shape), tuple(weight.shape))
        weight = expand(weight, new) if tuple(weight.shape) != tuple(new) else weight
    input, target = _promote(input, target)
    return BinaryCrossEntropy.apply(input, target, weight, red)


class BinaryCrossEntropyWithLogits(Op):
    """(1 - t) x - lw * logsigmoid(x), lw = 1 + (pos_weight - 1) t (torch's formula)."""

    @staticmethod
    def forward(ctx, x, t, w, pw, red):
        xp = ctx.xp
        ls = xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))
        lw = None
        if pw is not None:
            lw = (pw - 1.0) * t + 1.0
            loss = (1.0 - t) * x - lw * ls
        else:
            loss = (1.0 - t) * x - ls
        if w is not None:
            loss = loss * w
        ctx.red, ctx.n = red, loss.size
        ctx.sx = x.shape
        ctx.save_for_backward(x, t, w, pw, ls)
        return _reduce_arr(loss, red)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw, ls = ctx.saved
        xp = ctx.xp
        n = ctx.needs_input_grad
        c0 = _grad_scale(g, ctx.red, ctx.n)
        cf = c0 * w if w is not None else c0
        gx = gt = gw = gpw = None
        if n[0]:
            s = sigmoid_array(xp, x, stable=True)
            if pw is not None:
                pt = pw * t
                gx = ((pt + 1.0 - t) * s - pt) * cf
            else:
                gx = (s - t) * cf
            gx = sum_to_shape(xp.broadcast_to(gx, ctx.sx) if gx.shape != ctx.sx else gx,
                              ctx.sx)
        if n[1]:
            gt = (-x if pw is None else -x - (pw - 1.0) * ls) * cf
            gt = sum_to_shape(xp.broadcast_to(gt, t.shape) if gt.shape != t.shape else gt,
                              t.shape)
        if n[2]:
            lw = 1.0 if pw is None else (pw - 1.0) * t + 1.0
            gw = sum_to_shape(((1.0 - t) * x - lw * ls) * c0, w.shape)
        if n[3]:
            gpw = sum_to_shape(-t * ls * cf, pw.shape)
        return gx, gt, gw, gpw, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + BCE in one stable node; ``pos_weight`` weighs the positive term."""
    red = _red(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    input, target = _promote(input, target)
    shape = input._data.shape
    for extra in (weight, pos_weight):
        if extra is not None:
            _check_broadcast(extra, input)
            if len(extra._data.shape) > len(shape):
                raise RuntimeError(f"output with shape {list(shape)} doesn't match the "
                                   f"broadcast shape {list(extra.shape)}")
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, red)


# ---------------------------------------------------------------------- KL divergence
class KlDiv(Op):
    """Elementwise KL term; torch's composite ends in a Sub node."""

    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx, x, t, log_target):
        xp = ctx.xp
        ctx.log_target = log_target
        ctx.save_for_backward(x, t)
        if log_target:
            return xp.exp(t) * (t - x)
        # xlogy(t, t): 0 where t == 0
        tl = t * xp.log(xp.where(t == 0, 1.0, t))
        return tl - t * x

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved
        xp = ctx.xp
        n = ctx.needs_input_grad
        gx = gt = None
        if ctx.log_target:
            et = xp.exp(t)
            if n[0]:
                gx = -et * g
            if n[1]:
                gt = et * (t - x + 1.0) * g
        else:
            if n[0]:
                gx = -t * g
            if n[1]:
                gt = xp.where(t == 0, 0.0, xp.log(xp.where(t == 0, 1.0, t)) + 1.0 - x) * g
        return (sum_to_shape(gx, x.shape) if gx is not None else None,
                sum_to_shape(gt, t.shape) if gt is not None else None, None)


# by log_target: with it, exp(t) * (t - x), torch's composite ends in a Mul node
_KL_DIV = {False: KlDiv, True: KlDiv.named("MulBackward0")}


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of ``target`` from log-probabilities ``input``."""
    if size_average is not None or reduce is not None:
        red = get_enum(legacy_get_string(size_average, reduce))
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support "
                "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
                "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
                "major release.", stacklevel=2)
        red = _SUM if reduction == "batchmean" else get_enum(reduction)
    input, target = _promote(input, target)
    _check_broadcast(input, target)
    out = _apply_reduction(_KL_DIV[bool(log_target)].apply(input, target, bool(log_target)), red)
    if reduction == "batchmean" and input._data.ndim != 0:
        out = out / input._data.shape[0]
    return out


# ---------------------------------------------------------------------- margin / embedding losses
def _where(cond, a, b):
    from .select import where

    return where(cond, a, b)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos - margin) where target == -1."""
    red = _red(size_average, reduce, reduction)
    td = target._data.ndim
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if td == 1 else 1
    if input1._data.ndim != want or input2._data.ndim != want:
        raise RuntimeError(f"{td}D target tensor expects {want}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = td
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + eps
    m2 = (input2 * input2).sum(dim) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = cos * 0.0
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = _where(target == 1, pos, zeros) + _where(target == -1, neg, zeros)
    return _apply_reduction(out, red)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    red = _red(size_average, reduce, reduction)
    if input1._data.ndim != input2._data.ndim or input1._data.ndim != target._data.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    out = ((-target) * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(out, red)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where target == 1, max(0, margin - x) where target == -1."""
    red = _red(size_average, reduce, reduction)
    zeros = input * 0.0
    margin_clamp = (margin - input).clamp_min(0)
    out = _where(target != 1, margin_clamp, zeros) + _where(target != -1, input, zeros)
    return _apply_reduction(out, red)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), computed without overflow."""
    red = _red(size_average, reduce, reduction)
    z = -input * target
    return _apply_reduction(Softplus.apply(z, 1.0, float("inf")), red)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Mean over classes of the per-class logistic loss."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input._data.ndim - 1
    c = input._data.shape[class_dim]
    loss = loss.sum(dim=class_dim) / c
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log likelihood (optionally with Stirling's term)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        safe = _where(target > 1, target, target * 0.0 + 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + _where(target <= 1, stirling * 0.0, stirling)
    return _apply_reduction(loss, get_enum(reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log likelihood with (homo- or heteroscedastic) variance ``var``."""
    from .._creation import ones_like
    from ..autograd.grad_mode import no_grad

    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape)[:-1] == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise p-norm distances."""
    red = _red(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, po, ne = anchor._data.ndim, positive._data.ndim, negative._data.ndim
    if not (a == po == ne):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {po}D, "
                           f"and negative {ne}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from .select import minimum

        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction((margin + d_pos - d_neg).clamp_min(0), red)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge: sum_{j != y} max(0, margin - x[y] + x[j])^p / C (weighted by w[y])."""
    red = _red(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input._data.ndim > 1 else input.unsqueeze(0)
    t = target.reshape(-1)
    n, c = x._data.shape
    if t._data.shape[0] != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got "
                           f"{list(target.shape)}")
    if t._data.size and (int(t._data.min()) < 0 or int(t._data.max()) >= c):
        raise IndexError("target out of range")
    xy = x.gather(1, t.unsqueeze(1))
    z = (margin - xy + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t].unsqueeze(1)
    from .index import scatter

    mask = scatter(z * 0.0 + 1.0, 1, t.unsqueeze(1), 0.0)
    loss = (z * mask).sum(1) / c
    if input._data.ndim <= 1 and red == _NONE:
        loss = loss.reshape(target.shape) if target._data.ndim else loss.reshape(())
    return _apply_reduction(loss, red)


# ---------------------------------------------------------------------- distances
class PNorm(Op):
    """p-norm along one axis (keepdim); zero vectors get a zero gradient (torch's norm)."""

    node_name = "NormBackward1"

    @staticmethod
    def forward(ctx, x, p, axis, keepdim):
        xp = ctx.xp
        a = xp.abs(x)
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            out = a.sum(axis=axis, keepdims=True)
        elif p == float("inf"):
            out = a.max(axis=axis, keepdims=True)
        elif p == 0:
            out = (x != 0).sum(axis=axis, keepdims=True).astype(x.dtype)
        else:
            out = (a ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        ctx.p, ctx.axis, ctx.keepdim = p, axis, keepdim
        ctx.save_for_backward(x, out)
        return out if keepdim else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        x, nrm = ctx.saved
        xp = ctx.xp
        p = ctx.p
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axis)
        if p == 0:
            return xp.zeros_like(x), None, None, None
        if p == 1:
            return xp.sign(x) * g, None, None, None
        if p == float("inf"):
            hit = (xp.abs(x) == nrm)
            cnt = hit.sum(axis=ctx.axis, keepdims=True)
            return xp.sign(x) * hit * (g / xp.maximum(cnt, 1)), None, None, None
        safe = xp.where(nrm == 0, 1.0, nrm)
        if p == 2:
            gx = x * (g / safe)
        else:
            gx = x * xp.abs(x) ** (p - 2) * (g / safe ** (p - 1))
        return xp.where(nrm == 0, 0.0, gx), None, None, None


def _pnorm(x, p, dim, keepdim):
    if x._data.dtype.kind != "f":
        x = x.to(D.get_default_dtype())
    return PNorm.apply(x, float(p) if p != float("inf") else p, _wrap_dim(dim, x._data.ndim),
                       keepdim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension."""
    nd = max(x1._data.ndim, x2._data.ndim)
    d = x1 - x2 + eps
    if nd == 0:
        return d.abs()
    return _pnorm(d, p, nd - 1, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (torch's normalize-first
    form: each input is divided by its norm, clamped without gradient, before the product)."""
    from .shape import broadcast_tensors

    if x1._data.shape != x2._data.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    nd = x1._data.ndim
    dim = _wrap_dim(dim, nd)
    n1 = _pnorm(x1, 2, dim, True)
    n2 = _pnorm(x2, 2, dim, True)
    n1 = n1 + (n1.detach().clamp_min(eps) - n1.detach())
    n2 = n2 + (n2.detach().clamp_min(eps) - n2.detach())
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    denom = _pnorm(input, p, dim, True).clamp_min(eps).expand_as(input)
    res = input / denom
    if out is not None:
        out.copy_(res)
        return out
    return res


# the public names of this module's ops (ops/_registry.py): nn.functional.X (their torch.X
# twins are lamina/__init__.py's _FUNCTIONAL_TWINS, loaded at first use)
for _fn in (cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss, huber_loss,
            binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, cosine_embedding_loss,
            margin_ranking_loss, hinge_embedding_loss, soft_margin_loss,
            multilabel_soft_margin_loss, poisson_nll_loss, gaussian_nll_loss, triplet_margin_loss,
            multi_margin_loss, pairwise_distance, cosine_similarity, normalize):
    register(_fn, function=False, method=False, functional=True)
