"""lamina.nn.functional: thin wrappers that check arguments and call lamina/ops.

The ops torch has here unchanged are declared in their op module (``functional=True``, see
``lamina/ops/_registry.py``) and bound below; this file holds the ones whose F signature
differs (``inplace=``, implicit softmax dims, dropout's draws).
"""

from __future__ import annotations

import math as _math
import warnings as _warnings

from .. import _dtype as _D
from .._tensor import Tensor as _Tensor
from .._tensor import _make
from ..ops import activation as _act
from ..ops import conv as _conv, embedding as _emb, loss as _loss  # noqa: F401 - declare F ops
from ..ops import norm as _norm, pool as _pool, sampling as _smp  # noqa: F401 - declare F ops
from ..ops._registry import FUNCTIONAL as _FUNCTIONAL
from ..ops.arithmetic import Add as _Add
from ..ops.arithmetic import Mul as _Mul
from ..ops.unary import Relu as _Relu
from ..ops.unary import relu as _unary_relu

globals().update(_FUNCTIONAL)  # F.conv2d, F.cross_entropy, F.gelu, ... (defs below win)


def relu(input: _Tensor, inplace: bool = False) -> _Tensor:
    """max(input, 0)."""
    if inplace:
        return input.relu_()
    return _unary_relu(input)


def relu_(input: _Tensor) -> _Tensor:
    return input.relu_()


def relu6(input: _Tensor, inplace: bool = False) -> _Tensor:
    """min(max(input, 0), 6) (torch's hardtanh(0, 6) node)."""
    return _act.relu6_(input) if inplace else _act.relu6(input)


def hardtanh(input: _Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> _Tensor:
    """input clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _act.hardtanh_(input, min_val, max_val)
    return _act.hardtanh(input, min_val, max_val)


def threshold(input: _Tensor, threshold: float, value: float, inplace: bool = False) -> _Tensor:
    """input where input > threshold, else value."""
    if inplace:
        return _act.threshold_(input, threshold, value)
    return _act.threshold(input, threshold, value)


def leaky_relu(input: _Tensor, negative_slope: float = 0.01, inplace: bool = False) -> _Tensor:
    """input where input > 0, else negative_slope * input."""
    if inplace:
        return _act.leaky_relu_(input, negative_slope)
    return _act.leaky_relu(input, negative_slope)


def elu(input: _Tensor, alpha: float = 1.0, inplace: bool = False) -> _Tensor:
    """input where input > 0, else alpha * (exp(input) - 1)."""
    return _act.elu_(input, alpha) if inplace else _act.elu(input, alpha)


def selu(input: _Tensor, inplace: bool = False) -> _Tensor:
    """scale * elu(input, alpha) with the self-normalizing constants."""
    return _act.selu_(input) if inplace else _act.selu(input)


def celu(input: _Tensor, alpha: float = 1.0, inplace: bool = False) -> _Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _act.celu_(input, alpha) if inplace else _act.celu(input, alpha)


def silu(input: _Tensor, inplace: bool = False) -> _Tensor:
    """input * sigmoid(input)."""
    return _act.silu_(input) if inplace else _act.silu(input)


def mish(input: _Tensor, inplace: bool = False) -> _Tensor:
    """input * tanh(softplus(input))."""
    return _act.mish_(input) if inplace else _act.mish(input)


def hardsigmoid(input: _Tensor, inplace: bool = False) -> _Tensor:
    """min(max(x + 3, 0), 6) / 6."""
    return _act.hardsigmoid_(input) if inplace else _act.hardsigmoid(input)


def hardswish(input: _Tensor, inplace: bool = False) -> _Tensor:
    """x * hardsigmoid(x)."""
    return _act.hardswish_(input) if inplace else _act.hardswish(input)


def softplus(input: _Tensor, beta: float = 1.0, threshold: float = 20.0) -> _Tensor:
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""
    return _act.softplus(input, beta, threshold)


def softsign(input: _Tensor) -> _Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: _Tensor) -> _Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def glu(input: _Tensor, dim: int = -1) -> _Tensor:
    """a * sigmoid(b) for the halves (a, b) of input along ``dim``."""
    return _act.glu(input, dim)


def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    _warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                   f"to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: _Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> _Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (one fused, stable node)."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _act.softmax(input, dim, dtype)


def log_softmax(input: _Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> _Tensor:
    """log(softmax(x)) along ``dim`` (one fused, stable node)."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _act.log_softmax(input, dim, dtype)


def softmin(input: _Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> _Tensor:
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return _act.softmax(-input, dim, dtype)


def bilinear(input1: _Tensor, input2: _Tensor, weight: _Tensor,
             bias: _Tensor | None = None) -> _Tensor:
    """y = x1^T A x2 + b over the last dims (A: (out, in1, in2))."""
    from ..ops.linalg import einsum

    a, b, w = input1._data, input2._data, weight._data
    if a.ndim != b.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {a.ndim} and "
                           f"{b.ndim}")
    for i in range(a.ndim - 1):
        if a.shape[i] != b.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {a.shape[i]} and {b.shape[i]}")
    if a.shape[-1] != w.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{a.shape[-1]} but expected {w.shape[1]}")
    if b.shape[-1] != w.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{b.shape[-1]} but expected {w.shape[2]}")
    if bias is not None and bias._data.shape[-1] != w.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias._data.shape[-1]} but expected {w.shape[0]}")
    out_shape = a.shape[:-1] + (w.shape[0],)
    x1 = input1.reshape(-1, a.shape[-1]) if a.ndim != 2 else input1
    x2 = input2.reshape(-1, b.shape[-1]) if b.ndim != 2 else input2
    y = einsum("bi,oij,bj->bo", x1, weight, x2).reshape(out_shape)
    return y + bias if bias is not None else y


# ---- dropout: masks drawn from the default generator exactly as ATen's CPU kernels draw them
# (noise = empty_like(x).bernoulli_(1 - p) / (1 - p); feature dropout draws one value per
# (sample, channel); alpha dropout keeps SELU's mean and variance).
_ALPHA = 1.7580993408473766


def _check_p(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(input, p, shape):
    from ..random import generator_for

    gen = generator_for(input._device, None)
    a = input._data
    if shape == a.shape and a.ndim > 1 and not a.flags.c_contiguous:
        # torch draws into empty_like(input), which keeps a dense permuted layout (a transposed
        # tensor): the draws fill memory order, so draw in that order and permute back
        perm = _dense_perm(a)
        if perm is not None:
            noise = gen._bernoulli_shape(tuple(shape[i] for i in perm), 1.0 - p, a.dtype)
            inv = [0] * len(perm)
            for k, i in enumerate(perm):
                inv[i] = k
            return noise.transpose(inv)
    return gen._bernoulli_shape(shape, 1.0 - p, a.dtype)


def _dense_perm(a):
    """The axis order (outermost first) of a non-overlapping dense array, else None."""
    perm = sorted(range(a.ndim), key=lambda i: (-a.strides[i], i))
    step = a.itemsize
    for i in reversed(perm):
        if a.shape[i] != 1 and a.strides[i] != step:
            return None
        step *= a.shape[i]
    return perm


def _dropout_impl(input, p, training, inplace, shape, alpha):
    if p == 0 or not training or input._data.size == 0:
        return input
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    noise = _noise(input, p, shape)
    dev = input._device
    if alpha:
        a = 1.0 / _math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = (noise - 1.0) * (_ALPHA * a) + _ALPHA * a * p
        noise *= a
        if inplace:
            return input.mul_(_make(noise, dev)).add_(_make(b, dev))
        return _Add.apply(_Mul.apply(input, _make(noise, dev)), _make(b, dev))
    noise /= 1.0 - p
    if inplace:
        return input.mul_(_make(noise, dev))
    return _Mul.apply(input, _make(noise, dev))


def _feature_shape(input, batched=True):
    s = input._data.shape
    if len(s) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return s[:2] + (1,) * (len(s) - 2)


def dropout(input: _Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> _Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training)."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, input._data.shape, False)


def alpha_dropout(input: _Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> _Tensor:
    """Dropout that keeps a SELU network's zero mean and unit variance."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, input._data.shape, True)


def feature_alpha_dropout(input: _Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> _Tensor:
    """Alpha dropout of whole channels."""
    _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    return _dropout_impl(input, p, training, inplace, _feature_shape(input), True)


def _unbatched(input, p, training, inplace):
    """Feature dropout of an input without batch dim, as torch: unsqueeze(0), drop, squeeze."""
    if not training or p == 0 or input._data.size == 0:
        return input
    if inplace:
        # the same draws as torch's unsqueeze_(0) + feature dropout: one per channel
        s = input._data.shape
        return _dropout_impl(input, p, training, True, (s[0],) + (1,) * (len(s) - 1), False)
    x = input.unsqueeze(0)
    return _dropout_impl(x, p, training, False, _feature_shape(x), False).squeeze(0)


def dropout1d(input: _Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> _Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    nd = input._data.ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs).")
    if nd == 3:
        return _dropout_impl(input, p, training, inplace, _feature_shape(input), False)
    return _unbatched(input, p, training, inplace)


def _warn_feature_dims(k, nd):
    """dropout2d / dropout3d (``k`` spatial dims) warn, as torch, for an ``nd``-D input that
    is neither (C, *spatial) nor (N, C, *spatial); the warning points at their caller."""
    if nd not in (k + 1, k + 2):
        _warnings.warn(
            f"dropout{k}d: Received a {nd}-D input to dropout{k}d, which is deprecated and will "
            f"result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that dropout{k}d exists to provide "
            f"channel-wise dropout on inputs with {k} spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. {k + 1}D or {k + 2}D inputs).", stacklevel=3)


def dropout2d(input: _Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> _Tensor:
    """Zero whole channels of (N, C, H, W) inputs (3-D inputs: channel-wise 1-D, as torch)."""
    _check_p(p)
    nd = input._data.ndim
    _warn_feature_dims(2, nd)
    if nd == 3:
        _warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    if not training or p == 0 or input._data.size == 0:
        return input
    return _dropout_impl(input, p, training, inplace, _feature_shape(input), False)


def dropout3d(input: _Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> _Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    nd = input._data.ndim
    _warn_feature_dims(3, nd)
    if nd == 5:
        return _dropout_impl(input, p, training, inplace, _feature_shape(input), False)
    return _unbatched(input, p, training, inplace)


def one_hot(input: _Tensor, num_classes: int = -1) -> _Tensor:
    """(..., ) int64 class indices -> (..., num_classes) int64 one-hot rows."""
    from .._device import backend

    tensor = input
    a = tensor._data
    if a.dtype != _D.int64.np:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = backend(tensor._device).xp
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size:
        if int(a.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(a.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return _make(out, tensor._device)


from ._functional_attention import (multi_head_attention_forward,  # noqa: E402,F401
                                    scaled_dot_product_attention, _canonical_mask,
                                    _none_or_dtype, _in_projection, _in_projection_packed,
                                    _mha_shape_check)
