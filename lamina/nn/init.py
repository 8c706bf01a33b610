"""nn.init: parameter initializers (torch.nn.init), drawing from torch's random stream.

Every initializer fills its tensor in place without recording autograd (also on a leaf that
requires grad, outside ``no_grad``) and returns it. On the cpu the random ones consume the
generator exactly as torch's do, so ``manual_seed(s)`` followed by the same calls gives torch's
numbers: bit for bit for ``uniform_``, ``normal_``, ``xavier_*``, ``kaiming_*``, ``sparse_``
and ``trunc_normal_`` (tests/nn/test_init.py; ``trunc_normal_``'s narrow-window sampler
compares a float32 ``log`` whose last bit could in principle differ from torch's, which no
test has shown). ``orthogonal_`` draws the same normals, but its QR (LAPACK through NumPy,
which factors float32 in float64) agrees with torch's to float32 rounding only.

Beyond torch: an initializer called on a lazy module's not yet materialized parameter is
recorded (``tensor._defer_init(fn, args, kwargs)``) and replayed when its shape is known.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings

from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from .parameter import Buffer, Parameter, is_lazy

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    # deprecated aliases, as in torch
    "uniform",
    "normal",
    "constant",
    "eye",
    "dirac",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
]

# the classes that are never lazy: one identity test instead of an MRO walk on every call
_EAGER = frozenset((Tensor, Parameter, Buffer))


def _initializer(fn):
    """Make ``fn(tensor, ...)`` a public initializer.

    The wrapper defers the call on a lazy tensor (``tensor._defer_init(wrapper, args,
    kwargs)``: the lazy side replays ``wrapper(param, *args, **kwargs)`` once materialized)
    and otherwise runs ``fn`` under ``no_grad``, so nothing is recorded in the graph.
    """
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def init_fn(tensor, *args, **kwargs):
        if type(tensor) not in _EAGER and is_lazy(tensor):
            # bind now: a bad argument fails at the call, not at materialization
            sig.bind(tensor, *args, **kwargs)
            return tensor._defer_init(init_fn, args, kwargs)
        with no_grad():
            return fn(tensor, *args, **kwargs)

    return init_fn


# ------------------------------------------------------------------ torch's private helpers
# torch keeps these names (they are builtins for TorchScript); some user code calls them.


def _no_grad_uniform_(tensor: Tensor, a: float, b: float, generator=None) -> Tensor:
    with no_grad():
        arr = tensor._data
        if (tensor._device.type == "cpu" and arr.flags.c_contiguous and arr.flags.writeable
                and arr.dtype.kind == "f"):
            # the generator writes straight into the tensor's memory: Tensor.uniform_'s
            # no-grad path with no temporary the size of the tensor
            from ..random import generator_for

            generator_for(tensor._device, generator)._uniform(arr.shape, a, b, arr.dtype,
                                                              out=arr)
            tensor._version_counter[0] += 1
            return tensor
        return tensor.uniform_(a, b, generator=generator)


def _no_grad_normal_(tensor: Tensor, mean: float, std: float, generator=None) -> Tensor:
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _no_grad_trunc_normal_(tensor: Tensor, mean: float, std: float, a: float, b: float,
                           generator=None) -> Tensor:
    # torch 2.13's algorithm, step for step, so that it consumes the stream as torch does
    if tensor.is_meta:
        return tensor

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=4)
    with no_grad():
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            # redraw out-of-window values from N(mean, std); bounds rounded to the dtype so
            # that the rejection agrees with the representable values
            cast = tensor._data.dtype.type
            lo, hi = float(cast(a)), float(cast(b))
            from .._creation import empty_like
            from ..ops.select import where

            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < lo) | (result > hi)
                if not mask.any():
                    break
                result = where(mask, empty_like(result).normal_(mean, std, generator=generator),
                               result)
            if tensor is not result:
                tensor.copy_(result)
        else:
            # a narrow window: rejection from U(a, b) under the normal's density
            with warnings.catch_warnings():
                # log(0) of a zero uniform is -inf (an acceptance), as in torch: no warning
                warnings.simplefilter("ignore", RuntimeWarning)
                _trunc_normal_rejection(tensor, mean, std, a, b, generator)
        return tensor


def _trunc_normal_rejection(tensor, mean, std, a, b, generator):
    """torch's sampler for a window holding at most 30% of the mass: candidates from U(a, b),
    accepted when log(u) < the normal's log-density relative to its peak in [a, b]."""
    from .._creation import empty_like
    from ..ops.select import where

    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    candidates = empty_like(tensor)
    accept_buf = empty_like(tensor)
    # the first round samples straight into tensor (no where + copy when all are accepted)
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
    pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
    if not pending.any():
        return
    result = tensor
    while True:
        candidates.uniform_(a, b, generator=generator)
        result = where(pending, candidates, result)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = where(pending, accept_buf.uniform_(generator=generator).log_().gt(candidates),
                        pending)
        if not pending.any():
            break
    tensor.copy_(result)


def _no_grad_fill_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        return tensor.fill_(val)


def _no_grad_zero_(tensor: Tensor) -> Tensor:
    with no_grad():
        return tensor.zero_()


# ------------------------------------------------------------------ gains and fans

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (its ``nn.functional`` name).

    linear, conv*, conv_transpose*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu:
    sqrt(2 / (1 + negative_slope**2)) with ``param`` the slope (default 0.01); selu: 3/4.

    Args:
        nonlinearity: the function's name.
        param: optional parameter of the function (leaky_relu's negative slope).

    Returns:
        The gain (the int 1 for the linear functions, as in torch).

    Raises:
        ValueError: an unknown name, or a leaky_relu slope that is not an int or float.

    Example:
        >>> calculate_gain("leaky_relu", 0.2)
        1.3867504905630728
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param  # bool is an int: refused above
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically (pytorch/pytorch#50664)
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: dims 1 and 0, each times the product of dims 2+.

    Raises:
        ValueError: the tensor has fewer than 2 dimensions.
    """
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ------------------------------------------------------------------ initializers


@_initializer
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn from U(a, b).

    Args:
        tensor: an n-dimensional tensor.
        a: the lower bound.
        b: the upper bound.
        generator: the Generator to sample from (default: the device's default one).

    Example:
        >>> import lamina as torch
        >>> w = torch.nn.init.uniform_(torch.empty(3, 5), -1, 1)
        >>> bool(w.abs().max() <= 1)
        True
    """
    return _no_grad_uniform_(tensor, a, b, generator)


@_initializer
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn from N(mean, std**2).

    Args:
        tensor: an n-dimensional tensor.
        mean: the mean.
        std: the standard deviation.
        generator: the Generator to sample from.
    """
    return _no_grad_normal_(tensor, mean, std, generator)


@_initializer
def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill ``tensor`` from N(mean, std**2) truncated to [a, b] (absolute cut-offs).

    Out-of-window values are redrawn until inside (torch 2.13's sampler: redraws from the
    normal when [a, b] holds more than 30% of the mass, otherwise rejection sampling from
    U(a, b)). Warns when the mean is more than 2 std outside [a, b].

    Args:
        tensor: an n-dimensional tensor.
        mean: the mean of the normal.
        std: the standard deviation of the normal.
        a: the minimum cut-off.
        b: the maximum cut-off.
        generator: the Generator to sample from.
    """
    return _no_grad_trunc_normal_(tensor, mean, std, a, b, generator=generator)


@_initializer
def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    return _no_grad_fill_(tensor, val)


@_initializer
def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1."""
    return _no_grad_fill_(tensor, 1.0)


@_initializer
def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0."""
    return _no_grad_zero_(tensor)


@_initializer
def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D ``tensor`` with the identity matrix (ones on the main diagonal).

    Raises:
        ValueError: the tensor is not 2-D.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    tensor.zero_()
    if tensor.numel():
        tensor.fill_diagonal_(1)
    return tensor


@_initializer
def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D conv weight with the Dirac delta: the conv passes its input through.

    Output channel ``g * (out // groups) + d`` of group ``g`` gets a 1 at input channel ``d``
    and the kernel's centre, for ``d < min(out // groups, in)``; everything else is 0.

    Args:
        tensor: a (out, in, *kernel) tensor with 1 to 3 kernel dims.
        groups: number of groups of the conv layer.

    Raises:
        ValueError: not 3/4/5-D, or dim 0 not divisible by ``groups``.
    """
    dimensions = tensor.ndim
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    if tensor.is_meta:
        return tensor
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    tensor.zero_()
    rows = [g * out_chans_per_grp + d for g in range(groups) for d in range(min_dim)]
    if rows:
        cols = list(range(min_dim)) * groups
        tensor[(rows, cols) + tuple(s // 2 for s in sizes[2:])] = 1
    return tensor


def _xavier_std(tensor: Tensor, gain: float) -> float:
    """Glorot's std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


@_initializer
def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Raises:
        ValueError: the tensor has fewer than 2 dimensions.
    """
    std = _xavier_std(tensor, gain)
    a = math.sqrt(3.0) * std  # uniform bounds from the standard deviation
    return _no_grad_uniform_(tensor, -a, a, generator)


@_initializer
def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Raises:
        ValueError: the tensor has fewer than 2 dimensions.
    """
    std = _xavier_std(tensor, gain)
    return _no_grad_normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """He's std = gain / sqrt(fan_mode); None (with torch's warning, shown at the caller of the
    initializer) for a zero-element tensor, which is left as it is."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=4)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


@_initializer
def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan_mode).

    Args:
        tensor: an n-dimensional tensor (n >= 2).
        a: the negative slope of the rectifier after this layer (leaky_relu only).
        mode: ``'fan_in'`` (keeps the forward variance) or ``'fan_out'`` (the backward one).
        nonlinearity: the function's ``nn.functional`` name (``calculate_gain``).
        generator: the Generator to sample from.

    Raises:
        ValueError: fewer than 2 dimensions, a bad mode or nonlinearity.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std  # uniform bounds from the standard deviation
    return _no_grad_uniform_(tensor, -bound, bound, generator)


@_initializer
def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan_mode); arguments and errors as
    ``kaiming_uniform_``."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _no_grad_normal_(tensor, 0, std, generator)


@_initializer
def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill ``tensor`` with a (semi-)orthogonal matrix times ``gain``; dims 1+ are flattened.

    The QR factorization of a standard normal matrix, with Q's columns multiplied by the
    signs of R's diagonal so that Q is uniform over the orthogonal group (Mezzadri 2007).

    Raises:
        ValueError: the tensor has fewer than 2 dimensions.
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
    from .._device import backend

    xp = backend(tensor._device).xp
    m = flattened._data
    if m.dtype.itemsize < 4:  # LAPACK has no half precision: factor in float32
        m = m.astype(xp.float32)
    if rows < cols:
        m = m.T
    q, r = xp.linalg.qr(m)
    q *= xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    tensor.copy_(_make(q.reshape(tensor.shape), tensor._device))
    tensor.mul_(gain)
    return tensor


@_initializer
def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D ``tensor`` from N(0, std**2), then zero ``ceil(sparsity * rows)`` entries of
    every column (Martens 2010).

    As in torch, the zeroed rows of each column come from ``randperm(rows)`` on the default
    cpu generator (not ``generator``), one permutation per column, so the result matches
    torch's for the same seeds.

    Raises:
        ValueError: the tensor is not 2-D.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if tensor.is_meta:
        return tensor
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    tensor.normal_(0, std, generator=generator)
    if cols == 0:
        return tensor
    zero_rows = _randperm_heads(rows, cols, num_zeros)  # (cols, k), cpu int64
    if zero_rows.shape[1] == 0:
        return tensor
    from .._device import backend

    xp = backend(tensor._device).xp
    mask = xp.zeros((rows, cols), dtype=bool)
    col_idx = xp.arange(cols).reshape(cols, 1)
    mask[xp.asarray(zero_rows), col_idx] = True
    tensor.masked_fill_(_make(mask, tensor._device), 0)
    return tensor


def _randperm_heads(n: int, count: int, k: int):
    """The first ``k`` entries of ``count`` successive ``randperm(n)`` on the default cpu
    generator, as a (count, k) int64 NumPy array (cpu glue: the generator is NumPy's).

    ``randperm(n)`` is ATen's forward Fisher-Yates: step ``i`` swaps positions ``i`` and
    ``i + z_i`` with ``z_i = random() % (n - i)``, ``n - 1`` draws per permutation, and
    position ``i`` is final after step ``i``. All permutations' draws are taken at once and
    only the first ``k`` steps are run, vectorized over the permutations.
    """
    import numpy as np

    from .. import random as _random
    from .._creation import randperm
    from ..random._cpu_kernels import RANDPERM_SMALL

    g = _random.default_generator
    k = min(k, n)
    if n >= RANDPERM_SMALL:  # ATen's 64-bit shuffle: one permutation at a time
        return np.stack([randperm(n)._data[:k] for _ in range(count)]) if count else \
            np.zeros((0, k), dtype=np.int64)
    if n < 2:  # randperm(0) and randperm(1) draw nothing
        return np.zeros((count, k), dtype=np.int64)
    z = (g._raw(count * (n - 1)).reshape(count, n - 1)
         % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    perm = np.tile(np.arange(n, dtype=np.int64), (count, 1))
    every = np.arange(count)
    for i in range(min(k, n - 1)):
        j = z[:, i] + i
        pi = perm[:, i].copy()
        perm[:, i] = perm[every, j]
        perm[every, j] = pi
    return perm[:, :k]


# ------------------------------------------------------------------ deprecated aliases


def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = (f"{old_name}(...)\n\n    Deprecated in favor of "
                               f":func:`lamina.nn.init.{new_name}`.")
    deprecated_init.__name__ = old_name
    deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
