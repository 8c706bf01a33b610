"""Tensor creation: tensor, zeros, ones, arange, rand, randn, ... (PyTorch's dtype rules)."""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import warnings

import numpy as np

from . import _dtype as D
from ._device import CPU, backend, to_device
from ._tensor import Tensor, _make
from .ops._registry import register

_object_setattr = object.__setattr__


def _finish(arr, dev, requires_grad):
    """Move a NumPy array to the device and wrap it."""
    if dev is not CPU:
        arr = backend(dev).from_numpy(arr)
    t = _make(arr, dev)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def _dev(device):
    return CPU if device is None else to_device(device)


def _size_arg(args, size, name):
    """torch's ``*size`` argument: varargs, one sequence, or the keyword ``size=``."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (size,)


def _factory_out(fn):
    """torch's ``out=`` for a factory: the result (in out's dtype and on its device unless
    given) written into ``out``, which is returned."""
    params = inspect.signature(fn).parameters
    has_opts = "dtype" in params and "device" in params

    @functools.wraps(fn)
    def f(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        from .ops.inplace import write_out

        if has_opts and isinstance(out, Tensor):
            if kwargs.get("dtype") is None:
                kwargs["dtype"] = out.dtype
            if kwargs.get("device") is None:
                kwargs["device"] = out.device
        return write_out(out, fn(*args, **kwargs), fn.__name__)

    return f


def _no_pin(pin_memory):
    if pin_memory:
        raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no "
                           "pinned memory allocator is available on this system.")


def _size(size, name="size"):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _infer_np(data):
    """NumPy array for ``data`` with torch's dtype inference (float -> default dtype)."""
    if isinstance(data, np.ndarray) and data.dtype.kind != "O":
        D.from_np(data.dtype)  # raises for unsupported dtypes (float64 stays float64)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, Tensor):
        return backend(data._device).to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        data = _flatten_tensors(data)
    try:
        arr = np.asarray(data)
    except ValueError as e:
        _check_ragged(data)
        raise ValueError(f"tensor(): could not build a tensor from the data ({e})") from None
    k = arr.dtype.kind
    if k == "f":
        return arr.astype(D.get_default_dtype().np, copy=False)
    if k in "iu":
        return arr.astype(np.int64, copy=False)
    if k == "b":
        return arr
    if k == "O" or k == "U":
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return arr


def _check_ragged(data, dim=0):
    """Raise torch's error for nested sequences of unequal lengths."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    seqs = [isinstance(v, (list, tuple)) for v in data]
    if any(seqs) and not all(seqs):
        raise TypeError("not a sequence")
    if not any(seqs):
        return
    n = len(data[0])
    for v in data:
        if len(v) != n:
            raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {len(v)})")
    for v in data:
        _check_ragged(v, dim + 1)


def _flatten_tensors(data):
    """Lists holding Tensors (e.g. [t1, t2] of 0-d tensors) become plain values."""
    out = []
    for v in data:
        if isinstance(v, Tensor):
            out.append(v.tolist() if v._data.ndim else v.item())
        elif isinstance(v, (list, tuple)):
            out.append(_flatten_tensors(v))
        else:
            out.append(v)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays)."""
    dev = _dev(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "lamina.tensor(sourceTensor).", UserWarning, stacklevel=2)
        arr = backend(data._device).to_numpy(data._data).copy()
    else:
        arr = np.array(_infer_np(data), copy=True)
    if dtype is not None:
        arr = arr.astype(D.to_dtype(dtype).np, copy=False)
    return _finish(arr, dev, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor() but shares memory with a NumPy array or Tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    dev = _dev(device)
    arr = _infer_np(data)
    if dtype is not None:
        arr = arr.astype(D.to_dtype(dtype).np, copy=False)
    return _finish(arr, dev, False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """torch.asarray: as_tensor (sharing memory when it can) or, with copy=True, a copy."""
    t = as_tensor(obj, dtype, device)
    if copy and (t is obj or getattr(t, "_data", None) is getattr(obj, "_data", 0)
                 or isinstance(obj, np.ndarray)):
        t = t.clone()
    return t.requires_grad_() if requires_grad else t


def from_numpy(ndarray) -> Tensor:
    """A cpu tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_np(ndarray.dtype)
    return _make(ndarray, CPU)


def _dtype_or_default(dtype):
    return D.get_default_dtype().np if dtype is None else D.to_dtype(dtype).np


def _fill(size, value, dtype, device, requires_grad, fn, name="zeros"):
    dev = _dev(device)
    shape = _size(size, name)
    npd = _dtype_or_default(dtype)
    xp = backend(dev).xp
    return _finish_dev(fn(xp, shape, npd, value), dev, requires_grad)


def _finish_dev(arr, dev, requires_grad):
    t = _make(arr, dev)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


@_factory_out
def zeros(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    size = _size_arg(args, size, "zeros")
    return _fill(size, 0, dtype, device, requires_grad, lambda xp, s, d, v: xp.zeros(s, d))


@_factory_out
def ones(*args, size=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    size = _size_arg(args, size, "ones")
    return _fill(size, 1, dtype, device, requires_grad, lambda xp, s, d, v: xp.ones(s, d), "ones")


@_factory_out
def empty(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, memory_format=None):
    _no_pin(pin_memory)
    size = _size_arg(args, size, "empty")
    # zero-filled: uninitialized memory would make results depend on garbage
    return _fill(size, 0, dtype, device, requires_grad, lambda xp, s, d, v: xp.zeros(s, d),
                 "empty")


@_factory_out
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.scalar_dtype(fill_value)
    return _fill((tuple(size),) if not isinstance(size, int) else (size,), fill_value, dtype,
                 device, requires_grad, lambda xp, s, d, v: xp.full(s, v, d))


def _like(input, dtype, device):
    return (input.dtype if dtype is None else dtype,
            input._device if device is None else device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return zeros(tuple(input.shape), dtype=dt, device=dv, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return ones(tuple(input.shape), dtype=dt, device=dv, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return empty(tuple(input.shape), dtype=dt, device=dv, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return full(tuple(input.shape), fill_value, dtype=dt, device=dv, requires_grad=requires_grad)


@_factory_out
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    _no_pin(pin_memory)
    dev = _dev(device)
    xp = backend(dev).xp
    return _finish_dev(xp.eye(n, n if m is None else m, dtype=_dtype_or_default(dtype)), dev,
                       requires_grad)


@_factory_out
def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        if builtins.all(isinstance(v, (int, np.integer)) for v in vals):
            npd = np.int64
        else:
            npd = D.get_default_dtype().np
    else:
        npd = D.to_dtype(dtype).np
    n = int(math.ceil((end - start) / step))
    dev = _dev(device)
    # computed in float64 / int64 like torch, then cast
    if np.dtype(npd).kind == "f":
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(npd)
    else:
        arr = (start + np.arange(n, dtype=np.int64) * step).astype(npd)
    return _finish(arr, dev, requires_grad)


@_factory_out
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Deprecated torch.range: inclusive end, float result."""
    _no_pin(pin_memory)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(_dtype_or_default(dtype))
    return _finish(arr, _dev(device), requires_grad)


@_factory_out
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    npd = _dtype_or_default(dtype)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # torch computes from both ends to be symmetric: start + i*step for the first half
    s = float(start)
    e = float(end)
    if steps == 1:
        arr = np.array([s])
    else:
        step = (e - s) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        arr = np.where(i < half, s + step * i, e - step * (steps - 1 - i))
    return _finish(arr.astype(npd), _dev(device), requires_grad)


@_factory_out
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    lin = linspace(start, end, steps, dtype=D.float64)
    arr = np.power(base, lin._data).astype(_dtype_or_default(dtype))
    return _finish(arr, _dev(device), requires_grad)


# ---------------------------------------------------------------------- random
def _gen(dev, generator):
    from .random import generator_for

    return generator_for(dev, generator)


def _rand_common(size, dtype, device, requires_grad, generator, draw, name="rand"):
    dev = _dev(device)
    shape = _size(size, name)
    npd = _dtype_or_default(dtype)
    if np.dtype(npd).kind != "f":
        kernel = "check_uniform_bounds" if name == "rand" else "normal_kernel_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{D.scalar_name(np.dtype(npd))}'")
    arr = draw(_gen(dev, generator), shape, npd)
    return _finish_dev(arr, dev, requires_grad)


@_factory_out
def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    size = _size_arg(args, size, "rand")
    return _rand_common(size, dtype, device, requires_grad, generator,
                        lambda g, s, d: g._uniform(s, 0.0, 1.0, d))


@_factory_out
def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    size = _size_arg(args, size, "randn")
    return _rand_common(size, dtype, device, requires_grad, generator,
                        lambda g, s, d: g._normal(s, 0.0, 1.0, d), "randn")


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return rand(tuple(input.shape), generator=generator, dtype=dt, device=dv,
               requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None, pin_memory=False):
    _no_pin(pin_memory)
    dt, dv = _like(input, dtype, device)
    return randn(tuple(input.shape), generator=generator, dtype=dt, device=dv,
               requires_grad=requires_grad)


_RANDINT_SIGS = ("(int high, tuple of ints size, *, torch.Generator generator = None, Tensor out "
                 "= None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
                 "device = None, bool pin_memory = False, bool requires_grad = False)",
                 "(int low, int high, tuple of ints size, *, torch.Generator generator = None, "
                 "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
                 "torch.device device = None, bool pin_memory = False, bool requires_grad = "
                 "False)")


class _Required:
    """The default of a parameter that one of the overloads requires (shows as ``<required>``)."""

    def __repr__(self):
        return "<required>"


_MISSING = _Required()


def _bad_combination(name, args, kwargs, sigs):
    got = ", ".join([type(a).__name__ for a in args] +
                    [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but "
                     f"expected one of:\n" + "\n".join(f" * {s}" for s in sigs))


def _int_arg(name, arg, v, pos):
    """An ``int`` argument as torch's parser takes it: ints, NumPy ints, 0-d integer tensors."""
    if isinstance(v, Tensor) and v._data.ndim == 0 and v._data.dtype.kind in "iub":
        return int(v.item())
    if isinstance(v, (int, np.integer)):
        return int(v)
    where = f" (position {pos})" if pos else ""
    raise TypeError(f"{name}(): argument '{arg}'{where} must be int, not {type(v).__name__}")


def _randint_size(name, v, pos):
    if isinstance(v, Tensor) or not isinstance(v, (tuple, list)):
        where = f" (position {pos})" if pos else ""
        raise TypeError(f"{name}(): argument 'size'{where} must be tuple of ints, not "
                        f"{type(v).__name__}")
    return _size((tuple(v),), name)


def _randint_args(args, low, high, size):
    """torch.randint's two overloads, ``(high, size)`` and ``(low, high, size)``, positional or
    by keyword, -> (low, high, shape)."""
    kw = {k: v for k, v in (("low", low), ("high", high), ("size", size)) if v is not _MISSING}
    n = len(args)
    names = ("high", "size") if n == 2 and "size" not in kw else ("low", "high", "size")
    if n == 1 and "high" not in kw:
        names = ("high", "size")
    if n > 3 or any(k in kw for k in names[:n]):
        raise _bad_combination("randint", args, kw, _RANDINT_SIGS)
    vals = dict(zip(names, args))
    vals.update(kw)
    pos = {k: i + 1 for i, k in enumerate(names[:n])}
    if "high" not in vals or "size" not in vals or (n == 0 and "low" in vals and
                                                    len(vals) < 3):
        raise _bad_combination("randint", args, kw, _RANDINT_SIGS)
    lo = _int_arg("randint", "low", vals["low"], pos.get("low")) if "low" in vals else 0
    hi = _int_arg("randint", "high", vals["high"], pos.get("high"))
    return lo, hi, _randint_size("randint", vals["size"], pos.get("size"))


def randint(*args, low=_MISSING, high=_MISSING, size=_MISSING, generator=None, out=None,
            dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False):
    """torch.randint(high, size) / torch.randint(low, high, size): integers in [low, high)."""
    low, high, shape = _randint_args(args, low, high, size)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dev = _dev(device)
    npd = np.int64 if dtype is None else D.to_dtype(dtype).np
    arr = _gen(dev, generator)._randint(low, high, shape, npd)
    return _finish_dev(arr, dev, requires_grad)


_RANDINT_LIKE_SIGS = ("(Tensor input, int high, *, torch.Generator generator = None, torch.dtype "
                      "dtype = None, torch.layout layout = None, torch.device device = None, bool "
                      "pin_memory = False, bool requires_grad = False, torch.memory_format "
                      "memory_format = None)",
                      "(Tensor input, int low, int high, *, torch.Generator generator = None, "
                      "torch.dtype dtype = None, torch.layout layout = None, torch.device device "
                      "= None, bool pin_memory = False, bool requires_grad = False, "
                      "torch.memory_format memory_format = None)")


def randint_like(input, *args, low=_MISSING, high=_MISSING, generator=None, dtype=None,
                 layout=None, device=None, pin_memory=False, requires_grad=False,
                 memory_format=None):
    """torch.randint_like(input, high) / (input, low, high): the draws of
    ``torch.randint(low, high, input.shape)`` in input's dtype and device by default."""
    kw = {k: v for k, v in (("low", low), ("high", high)) if v is not _MISSING}
    names = ("high",) if len(args) == 1 and "high" not in kw else ("low", "high")
    if len(args) > 2 or any(k in kw for k in names[:len(args)]):
        raise _bad_combination("randint_like", (input,) + args, kw, _RANDINT_LIKE_SIGS)
    vals = dict(zip(names, args))
    vals.update(kw)
    if "high" not in vals:
        raise _bad_combination("randint_like", (input,) + args, kw, _RANDINT_LIKE_SIGS)
    lo = _int_arg("randint_like", "low", vals["low"], None) if "low" in vals else 0
    hi = _int_arg("randint_like", "high", vals["high"], None)
    dt, dv = _like(input, dtype, device)
    return randint(lo, hi, tuple(input.shape), generator=generator, dtype=dt, device=dv,
                   requires_grad=requires_grad)


@_factory_out
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dev = _dev(device)
    npd = np.int64 if dtype is None else D.to_dtype(dtype).np
    return _finish_dev(_gen(dev, generator)._randperm(int(n), npd), dev, requires_grad)


@_factory_out
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    _no_pin(pin_memory)
    """normal(mean, std) with tensors (elementwise) or floats plus ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())),
                                    tuple(getattr(std, "shape", ())))
        g = _gen(ref._device, generator)
        z = g._normal(shape, 0.0, 1.0, ref._data.dtype)
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        return _make(z * s + m, ref._device)
    if size is None:
        raise TypeError("normal() with float mean and std needs a size")
    return _rand_common((tuple(size),), dtype, device, requires_grad, generator,
                        lambda g, sh, d: g._normal(sh, mean, std, d))


@_factory_out
def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    g = _gen(input._device, generator)
    if p is not None:
        return _make(g._bernoulli_shape(input._data.shape, p, input._data.dtype), input._device)
    return _make(g._bernoulli(input._data, input._data.dtype), input._device)


@_factory_out
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    g = _gen(input._device, generator)
    a = backend(input._device).to_numpy(input._data)
    if a.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (a < 0).any() or not np.isfinite(a).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > a.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    return _make(backend(input._device).from_numpy(g._multinomial(a, num_samples, replacement)),
                 input._device)


def poisson(input, generator=None):
    a = backend(input._device).to_numpy(input._data)
    g = _gen(CPU, generator)
    r = np.random.default_rng(int(g._randint(0, 2 ** 62, (), np.int64)))
    return _make(backend(input._device).from_numpy(r.poisson(a).astype(a.dtype)), input._device)


# ---------------------------------------------------------------------- legacy constructors
def _legacy_new(args, device, dtype):
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if len(args) == 0:
        return zeros(0, dtype=dt, device=device)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        a = args[0]
        if isinstance(a, Tensor):
            return a
        if hasattr(a, "__len__") and not isinstance(a, (str, bytes)) and \
                builtins.all(isinstance(v, int) for v in a) and isinstance(a, tuple) and False:
            return zeros(*a, dtype=dt, device=device)
        return tensor(a, dtype=dt, device=device)
    return zeros(*args, dtype=dt, device=device)


def _typed_tensor_class(name, dt):
    """torch.FloatTensor & co: callable like the legacy constructor with a fixed dtype."""

    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj.dtype is dt

        def __call__(cls, *args, device=None):
            return _legacy_new(args, device, dt)

    return _Meta(name, (), {"dtype": dt})


# the public names of this module (ops/_registry.py): torch.X; bernoulli and multinomial are
# Tensor methods too (the same draws)
for _fn in (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like,
            ones_like, empty_like, full_like, eye, arange, range, linspace, logspace, rand, randn,
            rand_like, randn_like, randint, randint_like, randperm, normal, poisson):
    register(_fn, method=False)
register(bernoulli)
register(multinomial)
for _d in D.ALL:  # torch.FloatTensor & co, named by the dtype table
    register(_typed_tensor_class(_d.tensor_type, _d), method=False)
