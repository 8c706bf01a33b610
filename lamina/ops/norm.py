"""Normalization: batch, instance, layer, group and RMS norm as fused nodes, plus
local response norm.

Each normalization is one autograd node with its closed-form backward: for
``xhat = (x - mean) * invstd`` over a set of axes and ``gxhat = g * weight``,
``gx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))``. Channel statistics
reduce ``(N, C, P)`` views as ``.sum(0).sum(-1)``: NumPy adds the N planes elementwise and then
sums contiguous rows pairwise, which is faster and more accurate than one reduction over the
strided axes ``(0, 2, 3)``.
"""

from __future__ import annotations

from .._backends import _workspace as _ws
from ._op import Op
from ._registry import register


def _csum(a3):
    """Per-channel sum of an ``(N, C, P)`` array."""
    return a3.sum(axis=0).sum(axis=-1)


def _col(v):
    return v[:, None]


# ---------------------------------------------------------------------- batch norm
class BatchNorm(Op):
    """Batch norm over ``(N, C, *)``. Training: batch statistics (and in-place running-stat
    updates when buffers are given); otherwise the running statistics."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, rm, rv, training, momentum, eps):
        xp = ctx.xp
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, -1)
        if training:
            m = n * x3.shape[2]
            mean = _csum(x3) / m
            d = _ws.arith(xp, xp.subtract, x3, _col(mean))
            var = _csum(_ws.arith(xp, xp.multiply, d, d, temporary=True)) / m
            invstd = 1.0 / xp.sqrt(var + eps)
            if rm is not None:
                rm *= 1.0 - momentum
                rm += momentum * mean.astype(rm.dtype, copy=False)
            if rv is not None:
                rv *= 1.0 - momentum
                rv += (momentum * m / max(m - 1, 1)) * var.astype(rv.dtype, copy=False)
            scale = invstd if w is None else w * invstd
            out = _ws.arith(xp, xp.multiply, d, _col(scale))
            if b is not None:
                out += _col(b)
            if ctx.needs_input_grad is not None:
                ctx.training = True
                ctx.save_for_backward(d, invstd, w)
        else:
            invstd = 1.0 / xp.sqrt(rv.astype(x.dtype, copy=False) + eps)
            mean = rm.astype(x.dtype, copy=False)
            scale = invstd if w is None else w * invstd
            shift = -mean * scale
            if b is not None:
                shift += b
            out = _ws.arith(xp, xp.multiply, x3, _col(scale))
            out += _col(shift)
            if ctx.needs_input_grad is not None:
                ctx.training = False
                ctx.save_for_backward(x3, mean, invstd, w)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        xp = ctx.xp
        n, c = g.shape[:2]
        g3 = g.reshape(n, c, -1)
        sg = _csum(g3)
        gx = gw = None
        if ctx.training:
            d, invstd, w = ctx.saved
            m = n * g3.shape[2]
            sgd = _csum(_ws.arith(xp, xp.multiply, g3, d, temporary=True))
            if need[1]:
                gw = sgd * invstd
            if need[0]:
                scale = invstd if w is None else w * invstd
                gx = _ws.arith(xp, xp.multiply, g3, _col(scale))
                gx -= _ws.arith(xp, xp.multiply, d, _col(scale * invstd * invstd * sgd / m),
                                temporary=True)
                gx -= _col(scale * sg / m)
                gx = gx.reshape(g.shape)
        else:
            x3, mean, invstd, w = ctx.saved
            if need[1]:
                gw = (_csum(g3 * x3) - mean * sg) * invstd
            if need[0]:
                scale = invstd if w is None else w * invstd
                gx = (g3 * _col(scale)).reshape(g.shape)
        return gx, gw, (sg if need[2] else None), None, None, None, None, None


def _size(shape):
    return "torch.Size([" + ", ".join(str(v) for v in shape) + "])"


def _check_vec(name, t, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over the channel axis 1 of ``(N, C, *)``; see ``BatchNorm2d``."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dimensions (N, C, *), "
                         f"got input of size {_size(input.shape)}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"batch_norm: expected a floating point input, got {input.dtype}")
    c = input.shape[1]
    if training:
        size = input.shape[0]
        for v in input.shape[2:]:
            size *= v
        if size == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {_size(input.shape)}")
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    _check_vec("running_mean", running_mean, c)
    _check_vec("running_var", running_var, c)
    _check_vec("weight", weight, c)
    _check_vec("bias", bias, c)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode (training=False)")
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                          float(momentum if momentum is not None else 0.0), float(eps))
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._version_counter[0] += 1
    return out


# ---------------------------------------------------------------------- row normalization core
def _row_mean(a):
    """``a.mean(axis=-1, keepdims=True)`` without NumPy's Python wrapper around it (~4 us a
    call): the same sum and division, so the same values (float32: NumPy divides through
    float64 and rounds once more, which is exact for a quotient by an integer below 2**24).
    float16 keeps ``mean``, which accumulates in float32."""
    k = a.shape[-1]
    if a.dtype.itemsize < 4 or a.dtype.kind != "f" or not k:
        return a.mean(axis=-1, keepdims=True)
    s = a.sum(axis=-1, keepdims=True)
    s /= k
    return s


def _rows_fwd(xp, x2, eps):
    """Normalize each row of ``x2 (M, K)``: returns (xhat, invstd (M, 1), mean, var)."""
    mean = _row_mean(x2)
    d = _ws.arith(xp, xp.subtract, x2, mean)
    var = _row_mean(_ws.arith(xp, xp.multiply, d, d, temporary=True))
    invstd = 1.0 / xp.sqrt(var + eps)
    d *= invstd
    return d, invstd, mean, var


def _rows_bwd(xp, gxh, xhat, invstd):
    """Backward of ``_rows_fwd`` given the gradient w.r.t. xhat."""
    gx = _ws.arith(xp, xp.subtract, gxh, _row_mean(gxh))
    s = _row_mean(_ws.arith(xp, xp.multiply, gxh, xhat, temporary=True))
    gx -= _ws.arith(xp, xp.multiply, xhat, s, temporary=True)
    gx *= invstd
    return gx


class LayerNorm(Op):
    """Layer norm over the last axes holding ``k`` elements; elementwise affine."""

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, ns, eps):
        k = 1
        for v in ns:
            k *= v
        ctx.ns = ns
        xp = ctx.xp
        xhat, invstd, _, _ = _rows_fwd(xp, x.reshape(-1, k), eps)
        if w is not None:
            out = _ws.arith(xp, xp.multiply, xhat, w.reshape(k))
            if b is not None:
                out += b.reshape(k)
        elif b is not None:
            out = _ws.arith(xp, xp.add, xhat, b.reshape(k))
        else:
            out = xhat.copy() if ctx.needs_input_grad is not None else xhat
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(xhat, invstd, w)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w = ctx.saved
        xp = ctx.xp
        need = ctx.needs_input_grad
        k = xhat.shape[1]
        g2 = g.reshape(-1, k)
        gx = gw = gb = None
        if need[1]:
            gw = _ws.arith(xp, xp.multiply, g2, xhat, temporary=True).sum(axis=0).reshape(ctx.ns)
        if need[2]:
            gb = g2.sum(axis=0).reshape(ctx.ns)
        if need[0]:
            gxh = _ws.arith(xp, xp.multiply, g2, w.reshape(k), temporary=True) \
                if w is not None else g2
            gx = _rows_bwd(xp, gxh, xhat, invstd).reshape(g.shape)
        return gx, gw, gb, None, None


def _norm_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (int(normalized_shape),)
    return tuple(int(v) for v in normalized_shape)


def _check_normalized_shape(input, ns, star, params):
    """layer_norm / rms_norm's checks, with torch's messages (whose expected input shape
    starts with ``star``): the input ends in ``ns``, each ``(name, tensor)`` of ``params``
    is None or has shape ``ns``."""
    nd = len(ns)
    if nd == 0 or input.ndim < nd or tuple(input.shape[input.ndim - nd:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[{star}{', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in params:
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(ns)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` axes; see ``LayerNorm``."""
    ns = _norm_shape(normalized_shape)
    _check_normalized_shape(input, ns, "*, ", (("weight", weight), ("bias", bias)))
    return LayerNorm.apply(input, weight, bias, ns, float(eps))


def _channel_affine(ctx, xhat, invstd, w, b, shape):
    """Group / instance norm's output: ``xhat`` (rows normalized per group or plane) times the
    per-channel weight plus bias, in ``shape``; saves what ``_channel_affine_grads`` needs."""
    n, c = shape[:2]
    xh3 = xhat.reshape(n, c, -1)
    if w is not None:
        out = xh3 * _col(w)
        if b is not None:
            out += _col(b)
    elif b is not None:
        out = xh3 + _col(b)
    else:
        out = xh3.copy() if ctx.needs_input_grad is not None else xh3
    if ctx.needs_input_grad is not None:
        ctx.save_for_backward(xhat, invstd, w)
    return out.reshape(shape)


def _channel_affine_grads(ctx, g):
    """Gradients ``(x, weight, bias)`` of ``_channel_affine`` after ``_rows_fwd``."""
    xhat, invstd, w = ctx.saved
    need = ctx.needs_input_grad
    n, c = g.shape[:2]
    g3 = g.reshape(n, c, -1)
    xh3 = xhat.reshape(n, c, -1)
    gx = gw = gb = None
    if need[1]:
        gw = _csum(g3 * xh3)
    if need[2]:
        gb = _csum(g3)
    if need[0]:
        gxh = g3 * _col(w) if w is not None else g3
        gx = _rows_bwd(ctx.xp, gxh.reshape(xhat.shape), xhat, invstd).reshape(g.shape)
    return gx, gw, gb


class GroupNorm(Op):
    """Group norm of ``(N, C, *)`` with ``groups`` groups; per-channel affine."""

    node_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, groups, eps):
        n, c = x.shape[:2]
        xhat, invstd, _, _ = _rows_fwd(ctx.xp, x.reshape(n * groups, -1), eps)
        return _channel_affine(ctx, xhat, invstd, w, b, x.shape)

    @staticmethod
    def backward(ctx, g):
        return _channel_affine_grads(ctx, g) + (None, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization of ``(N, C, *)``; see ``GroupNorm``."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _check_vec("weight", weight, c)
    _check_vec("bias", bias, c)
    return GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


class InstanceNorm(Op):
    """Instance norm of ``(N, C, *)`` with input statistics: each (n, c) plane is normalized;
    per-channel affine; running stats (when given) move toward the batch-averaged instance
    statistics, as torch's ``instance_norm`` does."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, rm, rv, momentum, eps):
        n, c = x.shape[:2]
        x2 = x.reshape(n * c, -1)
        p = x2.shape[1]
        xhat, invstd, mean, var = _rows_fwd(ctx.xp, x2, eps)
        if rm is not None:
            rm *= 1.0 - momentum
            rm += momentum * mean.reshape(n, c).mean(axis=0).astype(rm.dtype, copy=False)
        if rv is not None:
            unb = var.reshape(n, c) * (p / max(p - 1, 1))
            rv *= 1.0 - momentum
            rv += momentum * unb.mean(axis=0).astype(rv.dtype, copy=False)
        return _channel_affine(ctx, xhat, invstd, w, b, x.shape)

    @staticmethod
    def backward(ctx, g):
        return _channel_affine_grads(ctx, g) + (None, None, None, None)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization of ``(N, C, *)``; see ``InstanceNorm2d``."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dimensions "
                         f"(N, C, *), got input of size {_size(input.shape)}")
    c = input.shape[1]
    _check_vec("running_mean", running_mean, c)
    _check_vec("running_var", running_var, c)
    _check_vec("weight", weight, c)
    _check_vec("bias", bias, c)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return BatchNorm.apply(input, weight, bias, running_mean, running_var, False, 0.0,
                               float(eps))
    p = 1
    for v in input.shape[2:]:
        p *= v
    if p == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{_size(input.shape)}")
    out = InstanceNorm.apply(input, weight, bias, running_mean, running_var,
                             float(momentum if momentum is not None else 0.0), float(eps))
    for t in (running_mean, running_var):
        if t is not None:
            t._version_counter[0] += 1
    return out


class RMSNorm(Op):
    """``x * rsqrt(mean(x^2) + eps) * weight`` over the last axes holding ``k`` elements."""

    node_name = "RmsNormBackward0"

    @staticmethod
    def forward(ctx, x, w, k, eps):
        xp = ctx.xp
        x2 = x.reshape(-1, k)
        r = 1.0 / xp.sqrt(_row_mean(x2 * x2) + eps)
        xhat = x2 * r
        out = xhat * w.reshape(k) if w is not None else xhat
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(xhat, r, w)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        xhat, r, w = ctx.saved
        need = ctx.needs_input_grad
        k = xhat.shape[1]
        g2 = g.reshape(-1, k)
        gx = gw = None
        if need[1]:
            gw = (g2 * xhat).sum(axis=0).reshape(w.shape)
        if need[0]:
            gxh = g2 * w.reshape(k) if w is not None else g2
            gx = gxh - xhat * _row_mean(gxh * xhat)
            gx *= r
            gx = gx.reshape(g.shape)
        return gx, gw, None, None


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``normalized_shape`` axes."""
    ns = _norm_shape(normalized_shape)
    _check_normalized_shape(input, ns, "*", (("weight", weight),))
    if eps is None:
        import numpy as np

        eps = float(np.finfo(input._data.dtype).eps)
    k = 1
    for v in ns:
        k *= v
    return RMSNorm.apply(input, weight, k, float(eps))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (AlexNet); torch's composition."""
    from .pool import avg_pool2d, avg_pool3d
    from .shape import constant_pad

    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = div.unsqueeze(1)
        div = constant_pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = constant_pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = (div * alpha + k).pow(beta)
    return input / div


# the public names of this module's ops (ops/_registry.py): nn.functional.X (their torch.X
# twins are lamina/__init__.py's _FUNCTIONAL_TWINS, loaded at first use)
for _fn in (batch_norm, layer_norm, group_norm, instance_norm, rms_norm, local_response_norm):
    register(_fn, function=False, method=False, functional=True)
