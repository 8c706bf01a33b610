"""Random number generation: ``Generator``, ``manual_seed`` and the default generators.

The cpu generator reproduces PyTorch's CPU generator (``torch.Generator()``, ATen's
``CPUGeneratorImpl``) bit for bit, in NumPy; the package has one module per job:

* ``_mt19937``: the engine, MT19937 seeded as torch seeds it, and torch's 5056-byte state
  layout (``get_state``/``set_state`` bytes move between lamina and torch);
* ``_cpu_kernels``: each distribution drawing from that stream as ATen's CPU kernels do (its
  docstring lists what is bit-identical to torch 2.13 and what is not);
* ``_float_emulation``: the float arithmetic of those kernels (uniform conversions, exact
  FMAs, ATen's AVX2 Box-Muller), emulated bit for bit;
* ``_cuda_engine``: cuda generators, CuPy's Philox reseeded per call (no parity with torch's
  CUDA numbers);
* here: ``Generator`` (argument checks, then the engine of its device), the default
  generators of the cpu and of each GPU, and the ``torch.*`` seeding functions.

``Generator()`` starts from torch's default seed 67280421310721; the default cpu generator
starts from a non-deterministic seed, as in torch 2.13.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

from .._device import to_device
from . import _cpu_kernels as _cpu
from ._cuda_engine import CudaEngine
from ._mt19937 import MT19937

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

# torch's `default_rng_seed_val`: the seed of a new torch.Generator() (c10/core/GeneratorImpl.h).
_DEFAULT_SEED = 67280421310721
_U64 = 1 << 64


def _seed_value(seed, where: str = "manual_seed") -> int:
    """A seed as torch stores it: an int in [-2**63, 2**64), negatives taken modulo 2**64."""
    if not hasattr(seed, "__index__"):
        raise RuntimeError(f"{where} expected a long, but got {type(seed).__name__}")
    seed = seed.__index__()
    if not -(1 << 63) <= seed < _U64:
        raise ValueError(f"{where}: seed must be in [-2**63, 2**64); expected a 64-bit integer, "
                         f"got {seed}")
    return seed % _U64


def _nondeterministic_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _as_np_dtype(dtype):
    np_dtype = getattr(dtype, "np", None)  # a lamina.dtype carries its numpy dtype
    return np.dtype(np_dtype if np_dtype is not None else dtype)


def _float_dtype(dtype, op: str):
    """The NumPy dtype of a distribution that only floats take (torch's error otherwise)."""
    dtype = _as_np_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{op}: not implemented for integer dtype; expected a floating "
                           f"point dtype, got {dtype}")
    return dtype


class Generator:
    """A random number generator, like ``torch.Generator``.

    On the cpu it is PyTorch's MT19937 generator (see ``_cpu_kernels`` for what is
    bit-identical); on cuda it delegates to CuPy.

    Args:
        device: ``'cpu'`` (default), ``'cuda'``, ``'cuda:N'`` or a ``lamina.device``.

    Example:
        >>> g = Generator().manual_seed(42)
        >>> g.initial_seed()
        42
    """

    # _eng: the engine (MT19937 on the cpu, CudaEngine on cuda); _cuda: the CudaEngine or None
    __slots__ = ("_device", "_eng", "_cuda", "__weakref__")

    def __init__(self, device="cpu"):
        d = to_device(device)
        if d.type not in ("cpu", "cuda"):
            raise RuntimeError(f"Generator: device type {d.type!r} has no random generator; "
                               f"expected 'cpu' or 'cuda', got {str(d)!r}")
        self._device = d
        if d.type == "cpu":
            self._eng = MT19937(_DEFAULT_SEED)
            self._cuda = None
        else:
            self._eng = self._cuda = CudaEngine(d.index, _DEFAULT_SEED)

    @property
    def device(self):
        """The ``lamina.device`` this generator produces numbers for."""
        return self._device

    # ------------------------------------------------------------------ seeding and state

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (any int in [-2**63, 2**64)); returns ``self`` like torch."""
        self._eng.manual_seed(_seed_value(seed))
        return self

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the new seed."""
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed given to the last ``manual_seed`` (or ``seed``)."""
        return self._eng.seed

    def get_state(self):
        """The generator's state as a uint8 tensor.

        On the cpu it is torch's ``CPUGeneratorImplState`` layout (5056 bytes), so
        ``torch.set_rng_state`` accepts it; on cuda it is 16 bytes (seed, call counter).
        """
        from .._tensor import _wrap

        return _wrap(self._eng.state_bytes())

    def set_state(self, new_state) -> Generator:
        """Restore a state from ``get_state`` (a uint8 tensor; a NumPy array also works)."""
        arr = getattr(new_state, "_data", new_state)
        if not isinstance(arr, np.ndarray):
            to_np = getattr(arr, "get", None)  # a CuPy array
            if to_np is None:
                raise TypeError("RNG state must be a torch.ByteTensor")
            arr = to_np()
        if arr.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        self._eng.load_state_bytes(np.ascontiguousarray(arr).reshape(-1))
        return self

    def clone_state(self) -> Generator:
        """A new generator on the same device with this generator's state."""
        g = Generator(self._device)
        g._eng.load_state_bytes(self._eng.state_bytes())
        return g

    def __getstate__(self):
        return {"device": str(self._device), "state": self._eng.state_bytes()}

    def __setstate__(self, st):
        self.__init__(st["device"])
        self._eng.load_state_bytes(st["state"])

    def _raw(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws of the cpu stream (``CPUGeneratorImpl::random()``, as uint64)."""
        return self._eng.raw(n)

    # ------------------------------------------------------------------ distributions
    # Each checks its arguments as torch does, then draws on the engine of its device.

    def _uniform(self, shape, low, high, dtype, out=None):
        """``torch.rand`` / ``Tensor.uniform_(low, high)``: an array of ``shape``.

        ``out`` (optional): an array of ``shape`` and ``dtype`` to fill instead of allocating
        one (a C-contiguous float32 one on the cpu is filled in place); it is returned.
        """
        dtype = _float_dtype(dtype, "uniform_")
        shape = tuple(shape)
        low, high = float(low), float(high)
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={low:g} > to={high:g}")
        if self._cuda is None:
            return _cpu.uniform(self._eng, shape, low, high, dtype, out)
        x = self._cuda.uniform(shape, low, high, dtype)
        if out is None:
            return x
        out[...] = x
        return out

    def _normal(self, shape, mean, std, dtype):
        """``torch.randn`` / ``Tensor.normal_(mean, std)``: a new array of ``shape``."""
        dtype = _float_dtype(dtype, "normal_")
        shape = tuple(shape)
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if self._cuda is not None:
            return self._cuda.normal(shape, mean, std, dtype)
        return _cpu.normal(self._eng, shape, mean, std, dtype)

    def _randint(self, low, high, shape, dtype):
        """``torch.randint(low, high, shape)`` / ``Tensor.random_(low, high)``."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        low, high = int(low), int(high)
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={low} >= to={high}")
        if dtype.kind == "f" and high - low < _U64:
            # ATen narrows the bounds so that no value rounds outside [from, to) in dtype
            low, high = _update_from(low, dtype), _update_to(high, dtype)
            if low >= high:
                raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than "
                                   f"'to' casted to dtype, but got from={low} >= to={high}")
        _check_int_bounds(low, high, dtype)
        if dtype.kind == "f":
            digits = int(np.finfo(dtype).nmant) + 1
            for name, v in (("from", low), ("to - 1", high - 1)):
                if not -(1 << digits) <= v <= (1 << digits):
                    warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                                  f"precision limitations {dtype} can support discrete uniform "
                                  f"distribution only within this range.", UserWarning,
                                  stacklevel=3)
        if self._cuda is not None:
            return self._cuda.randint(low, high, shape, dtype)
        return _cpu.randint(self._eng, low, high, shape, dtype)

    def _random(self, shape, dtype):
        """``Tensor.random_()`` without bounds: [0, 2**mantissa] for floats, [0, max] else."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        if self._cuda is not None:
            hi = {np.dtype(np.float16): 2049, np.dtype(np.float32): 2**24 + 1,
                  np.dtype(np.float64): 2**53 + 1, np.dtype(np.bool_): 2}.get(dtype)
            hi = hi if hi is not None else int(np.iinfo(dtype).max) + 1
            return self._cuda.randint(0, hi, shape, dtype)
        return _cpu.random(self._eng, shape, dtype)

    def _randperm(self, n, dtype):
        """``torch.randperm(n)``: ATen's Fisher-Yates on the 32-bit stream."""
        dtype = _as_np_dtype(dtype)
        n = int(n)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        if dtype.kind == "f" and n > (1 << (np.finfo(dtype).nmant + 1)) + 1:
            raise RuntimeError(f"n cannot be greater than {(1 << (np.finfo(dtype).nmant + 1)) + 1}"
                               f" for {dtype} type.")
        if dtype.kind in "iu" and n - 1 > np.iinfo(dtype).max:
            raise RuntimeError(f"n cannot be greater than {int(np.iinfo(dtype).max) + 1} for "
                               f"{dtype} type.")
        if self._cuda is not None:
            return self._cuda.randperm(n, dtype)
        return _cpu.randperm(self._eng, n, dtype)

    def _bernoulli(self, p, dtype):
        """``torch.bernoulli(p)`` / ``Tensor.bernoulli_(p_tensor)``: one draw per element of p.

        A float64 ``p`` is compared with a 53-bit uniform (two draws), any other floating
        ``p`` with a 24-bit float32 uniform (one draw); a Python float acts like
        ``bernoulli_(float)`` and gives a 0-d array.
        """
        dtype = _as_np_dtype(dtype)
        if isinstance(p, (int, float, np.generic)):  # a number, not a tensor of them
            return self._bernoulli_shape((), p, dtype)
        if self._cuda is None:
            p = np.asarray(p)
        if p.dtype.kind != "f":
            raise RuntimeError(f"bernoulli: expected a floating point probability tensor, "
                               f"got dtype {p.dtype}")
        bad = ~((p >= 0) & (p <= 1))
        if bad.any():
            raise RuntimeError("bernoulli: probabilities must be in [0, 1]; expected 0 <= p <= "
                               f"1, got {p[bad].reshape(-1)[0].item()!r}")
        if self._cuda is not None:
            return self._cuda.bernoulli(p, dtype)
        return _cpu.bernoulli(self._eng, p, dtype)

    def _bernoulli_shape(self, shape, p, dtype):
        """``Tensor.bernoulli_(p)`` with a float ``p`` (dropout masks): 53-bit uniforms < p."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        p = float(p)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        if self._cuda is not None:
            return self._cuda.bernoulli_shape(shape, p, dtype)
        return _cpu.bernoulli_shape(self._eng, shape, p, dtype)

    def _exponential(self, shape, lambd, dtype):
        """``Tensor.exponential_(lambd)``: -log1p(-u) / lambd in double, then cast."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        lambd = float(lambd)
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        if dtype.kind != "f":
            raise RuntimeError(f"exponential_: expected a floating point dtype, got {dtype}")
        if self._cuda is not None:
            return self._cuda.exponential(shape, lambd, dtype)
        return _cpu.exponential(self._eng, shape, lambd, dtype)

    def _multinomial(self, probs, num_samples, replacement=False):
        """``torch.multinomial(probs, num_samples, replacement)``: an int64 index array."""
        xp = np if self._cuda is None else self._cuda.ensure()
        if self._cuda is None:
            probs = np.asarray(probs)
        num_samples = int(num_samples)
        if probs.ndim not in (1, 2):
            raise RuntimeError(f"prob_dist must be 1 or 2 dim; expected a 1-D or 2-D tensor, "
                               f"got {probs.ndim} dims")
        if probs.dtype.kind != "f":
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, "
                               f"got: {probs.dtype}")
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        n_cat = probs.shape[-1]
        if not replacement and num_samples > n_cat:
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement; expected at most {n_cat}, got {num_samples}")
        if n_cat > (1 << 24):
            raise RuntimeError("number of categories cannot exceed 2^24")
        if n_cat == 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if probs.size == 0:  # no rows
            return xp.empty(probs.shape[:-1] + (num_samples,), dtype=np.int64)
        if not bool(xp.isfinite(probs).all()) or bool((probs < 0).any()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool((probs.sum(-1) == 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if self._cuda is not None:
            return self._cuda.multinomial(probs, num_samples, replacement)
        return _cpu.multinomial(self._eng, probs, num_samples, replacement)


def _update_from(low: int, dtype) -> int:
    """ATen's update_from: the smallest ``from`` whose successor survives the dtype cast."""
    up = int(dtype.type(low + 1))
    if up < low:
        n = max(abs(low + 1).bit_length() - 1, 0)
        low = up + (1 << (n - (np.finfo(dtype).nmant + 1) + 1))
    return low


def _update_to(high: int, dtype) -> int:
    """ATen's update_to: the largest ``to`` whose predecessor stays below it after the cast."""
    down = int(dtype.type(high - 1))
    if down >= high:
        n = max(abs(high - 1).bit_length() - 1, 0)
        high = down - (1 << (n - (np.finfo(dtype).nmant + 1) + 1))
    return high


def _check_int_bounds(low: int, high: int, dtype) -> None:
    """ATen's check_from_to_in_range (the full int64 range is checked by the caller)."""
    if dtype == np.bool_:
        lo, hi = 0, 1
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
    else:
        info = np.finfo(dtype)
        lo, hi = float(info.min), float(info.max)
    if high - low >= _U64:
        return
    if not lo <= low <= hi or not lo <= high - 1 <= hi:
        raise RuntimeError(f"random_: 'from' and 'to' - 1 must be in the range of {dtype}; "
                           f"expected [{lo:g}, {hi:g}], got from={low}, to - 1={high - 1}")


# --------------------------------------------------------------------------------------------
# The default generators and the torch.* seeding functions.

default_generator = Generator()
# torch's default cpu generator starts from a non-deterministic seed (getDefaultCPUGenerator).
default_generator.manual_seed(_nondeterministic_seed())

# Callables run by manual_seed(seed) and seed() with the new seed, after lamina's own cpu and
# cuda generators are seeded (other device modules can hook in here).
_seed_hooks: list = []

_cuda_generators: dict = {}  # device index -> the default Generator of that GPU
_cuda_pending_all: int | None = None  # like torch, cuda seeding is lazy: applied on creation
_cuda_pending: dict = {}  # device index -> seed from lamina.cuda.manual_seed


def _cuda_default(index: int) -> Generator:
    g = _cuda_generators.get(index)
    if g is None:
        g = Generator(f"cuda:{index}")
        s = _cuda_pending.pop(index, _cuda_pending_all)
        if s is not None:
            g.manual_seed(s)
        _cuda_generators[index] = g
    return g


def _get_default_generator(device=None) -> Generator:
    """The default generator of a device (cpu or cuda:N; cuda ones are created on first use)."""
    if device is None:
        return default_generator
    d = to_device(device)
    if d.type == "cpu":
        return default_generator
    if d.type != "cuda":
        raise RuntimeError(f"no random generator for device {str(d)!r}; expected cpu or cuda")
    return _cuda_default(d.index)


def generator_for(dev, generator) -> Generator:
    """The generator a random op on device ``dev`` draws from: ``generator`` (which must be
    of ``dev``'s type) or the default generator of ``dev``."""
    if generator is not None:
        gdev = generator.device
        if getattr(gdev, "type", str(gdev).split(":")[0]) != dev.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{getattr(gdev, 'type', gdev)}'")
        return generator
    if dev.type == "cpu":
        return default_generator
    idx = dev.index
    return _cuda_default(idx) if idx is not None else _get_default_generator(dev)


def _cuda_manual_seed(seed: int, all_devices: bool) -> None:
    """``lamina.cuda.manual_seed(_all)``: seed now, or when the generator is first made."""
    global _cuda_pending_all
    seed = _seed_value(seed)
    if all_devices:
        _cuda_pending_all = seed
        _cuda_pending.clear()
        for g in _cuda_generators.values():
            g.manual_seed(seed)
        return
    from .. import cuda

    idx = cuda.current_device()
    g = _cuda_generators.get(idx)
    if g is None:
        _cuda_pending[idx] = seed
    else:
        g.manual_seed(seed)


def manual_seed(seed) -> Generator:
    """Seed the default cpu generator and every GPU's generator; returns the cpu generator.

    Like ``torch.manual_seed``, ``seed`` may be anything ``int()`` accepts.
    """
    seed = int(seed)
    default_generator.manual_seed(seed)
    _cuda_manual_seed(seed, all_devices=True)
    for hook in _seed_hooks:
        hook(seed)
    return default_generator


def seed() -> int:
    """Seed the default generators non-deterministically and return the seed."""
    s = default_generator.seed()
    _cuda_manual_seed(s, all_devices=True)
    for hook in _seed_hooks:
        hook(s)
    return s


def initial_seed() -> int:
    """The initial seed of the default cpu generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default cpu generator's state (a uint8 tensor in torch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default cpu generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """Restore the cpu generator (and the given GPUs' generators) when the block exits.

    Args:
        devices: cuda device indices (or devices) whose generators are saved too; ``None``
            means every GPU generator created so far.
        enabled: ``False`` makes this a no-op.
    """
    if not enabled:
        yield
        return
    if devices is None:
        gens = list(_cuda_generators.values())
    else:
        gens = [_get_default_generator(d if not isinstance(d, int) else f"cuda:{d}")
                for d in devices]
    saved = [(g, g._eng.state_bytes()) for g in [default_generator, *gens]]
    try:
        yield
    finally:
        for g, st in saved:
            g._eng.load_state_bytes(st)
