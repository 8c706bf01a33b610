"""Random number generation: ``Generator``, ``manual_seed`` and the default generator.

The cpu generator reproduces PyTorch's CPU generator (``torch.Generator()``, ATen's
``CPUGeneratorImpl``) bit for bit, in NumPy:

* the engine is MT19937 seeded the classic way (``init_genrand`` with the low 32 bits of the
  seed), which is ``numpy.random.MT19937._legacy_seeding``; the raw 32-bit stream is identical;
* every distribution consumes the stream exactly as ATen's CPU kernels do (one 32-bit draw per
  float32 uniform, two per float64 uniform, high word first, ...), so a *sequence* of calls
  (``randn(2, 3)``, then ``rand(5)``, then the ``uniform_`` of each new layer's weight) gives
  torch's numbers;
* ``get_state`` writes torch's own 5056-byte layout (``CPUGeneratorImplState``), so a state
  taken from lamina can be loaded by ``torch.set_rng_state`` and the other way round;
* the double-precision Box-Muller cache of ``normal`` (ATen keeps the second sample of a pair
  for the next call of the scalar path) is part of the state, as in torch.

Verified bit-identical against torch 2.13 on x86-64 with AVX2 or AVX-512 (tests/test_random.py;
the float64 transforms call the C library's ``log``/``log1p``/``sin``/``cos`` as torch does, through
``lamina._libm``, whatever SIMD kernels NumPy dispatches on the CPU at hand):

* ``rand``/``uniform_(a, b)`` for float32, float64 and float16 (ATen's fused
  ``x * (to - from) + from``, and its mapping of a value rounded up to ``to`` back to ``from``);
* ``randn``/``normal_(mean, std)`` for float32, float64 and float16, both the scalar path
  (fewer than 16 elements, Box-Muller pairs whose second sample is cached across calls) and
  the 16-wide path (float32: an emulation of ATen's AVX2 ``log256_ps``/``sincos256_ps`` with
  the FMAs GCC contracts, checked against torch for all 2**24 possible uniforms);
* ``randint``/``random_(low, high)`` (random64() from a range of 2**28 on, ATen's bound
  narrowing for floating dtypes), ``random_()``, ``randperm`` (n < 214748364),
  ``bernoulli(p_tensor)`` (24-bit draws for float32 p, 53-bit for float64 p), ``bernoulli_(p)``
  and dropout masks, ``exponential_``, ``multinomial`` with and without replacement;
* ``get_state``/``set_state`` bytes, ``initial_seed``, and ``Generator()``'s default seed
  67280421310721. (The default generator itself starts from a non-deterministic seed, as in
  torch 2.13.)

Not bit-identical (statistically correct, same consumption of the stream):

* on a CPU without AVX2 torch runs its DEFAULT kernels: float32 ``uniform_`` with general
  bounds is then not fused and float32 ``normal`` with >= 16 elements uses libm's ``logf``/
  ``cosf``; lamina always follows the AVX2 kernels (which torch also runs on AVX-512 CPUs);
* ``bernoulli_(p)`` with a float ``p`` on an *Intel* CPU: torch built with MKL then samples
  from MKL's VSL stream (seeded with one 32-bit draw) instead of MT19937; lamina follows the
  default (AMD / non-MKL) kernel everywhere;
* ``randperm(n)`` for ``n >= 214748364`` follows ATen's 64-bit inside-out shuffle but as a
  Python loop (slow; torch needs gigabytes there too);
* ``normal_``/``uniform_`` of a *non-contiguous* tensor: torch then takes its scalar path in
  strided order, while lamina's in-place methods fill a contiguous block;
* cuda generators delegate to CuPy (Philox, reseeded per call from seed and call counter) and
  make no attempt at parity with torch's CUDA generator.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings

import numpy as np

from . import _libm
from ._device import to_device

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

# torch's `default_rng_seed_val`: the seed of a new torch.Generator() (c10/core/GeneratorImpl.h).
_DEFAULT_SEED = 67280421310721
_U64 = 1 << 64
_STATE_N = 624  # MT19937 words
_STATE_SIZE = 5056  # sizeof(at::detail::CPUGeneratorImplState) on x86-64
# randperm switches to a 64-bit inside-out shuffle from this n on (uint32 max / 20 in ATen).
_RANDPERM_SMALL = 0xFFFFFFFF // 20
_RANDPERM_LOOP_MAX = 512  # below this a Python loop of swaps beats the vectorized version

_f32 = np.float32
_f64 = np.float64
_u64 = np.uint64
_M24 = np.uint64(0xFFFFFF)
_M21 = np.uint64(0x1FFFFF)
_S32 = np.uint64(32)
_TWO_M24 = np.float32(2.0**-24)
_TWO_M53 = 2.0**-53
_CHUNK = 1 << 15  # elements per block of the emulated-FMA paths (temporaries stay in cache)
_CHUNK_ROWS = _CHUNK // 16
_UCHUNK = 1 << 16  # draws per block of uniform_'s float32 path

# The CPUGeneratorImplState struct (aten/src/ATen/CPUGeneratorImpl.cpp), byte for byte.
_STATE_DTYPE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "next_float", "next_float_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", (_STATE_N,)), "<f8", "<f8", "<f8", "<i4",
                "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": _STATE_SIZE,
})


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


def _cast(x: np.ndarray, dtype) -> np.ndarray:
    """``static_cast<scalar_t>`` of doubles/int64s: half goes through float, as in C++."""
    if dtype == np.float16:
        x = x.astype(_f32)
    return x.astype(dtype, copy=False)


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


# --------------------------------------------------------------------------------------------
# Exact fused multiply-add. ATen's AVX2 kernels are compiled with FMA contraction, so matching
# them needs a correctly rounded a*b + c, which NumPy lacks.


def _fma32(a, b, c):
    """Correctly rounded float32 ``a * b + c`` (float32 inputs).

    The product of two float32 values is exact in float64; the float64 sum is rounded once,
    and rounding it again to float32 is wrong only when it landed exactly on a float32
    midpoint (then the exact value decides the side). Normal float32 range assumed.
    """
    t = np.multiply(a, b, dtype=_f64)
    t += c
    r = t.astype(_f32)
    mid = (t.view(_u64) & np.uint64(0x1FFFFFFF)) == np.uint64(0x10000000)
    if mid.any():
        idx = np.nonzero(mid)
        tm = t[idx]
        p = np.multiply(np.broadcast_to(a, t.shape)[idx], np.broadcast_to(b, t.shape)[idx],
                        dtype=_f64)
        cm = np.broadcast_to(c, t.shape)[idx].astype(_f64)
        bb = tm - p
        err = (p - (tm - bb)) + (cm - bb)  # TwoSum: exact value = tm + err
        rm = r[idx]
        rm = np.where((err > 0) & (rm < tm), np.nextafter(rm, _f32(np.inf)), rm)
        rm = np.where((err < 0) & (rm > tm), np.nextafter(rm, _f32(-np.inf)), rm)
        r[idx] = rm
    return r


def _fma32_box_muller(a, b, c):
    """float32 ``a * b + c`` rounded through float64, for the Box-Muller kernels only.

    Double rounding never bites there: their inputs are functions of one 24-bit uniform, and
    enumerating all 2**24 of them shows that, in every FMA of ``_log256`` and ``_sincos256``,
    the float64 sum is either exact or not on a float32 midpoint (tests/test_random.py checks
    a subset of that enumeration against ``_fma32``).
    """
    t = np.multiply(a, b, dtype=_f64)
    t += c
    return t.astype(_f32)


def _split(x):
    g = x * 134217729.0  # Veltkamp split with 2**27 + 1
    hi = g - (g - x)
    return hi, x - hi


def _fma64(a, b: float, c: float):
    """Correctly rounded float64 ``a * b + c`` for an array ``a`` and scalars ``b``, ``c``.

    Dekker's exact product, TwoSum, and one sum rounded to odd (Boldo & Melquiond, "Emulation
    of FMA and correctly rounded sums: proved algorithms using rounding to odd", 2008).
    """
    a = np.asarray(a, dtype=_f64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(np.float64(b))
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a*b == p + e exactly
    th = c + p
    bb = th - c
    tl = (c - (th - bb)) + (p - bb)  # c + p == th + tl exactly
    s = tl + e
    bb = s - tl
    err = (tl - (s - bb)) + (e - bb)
    bits = s.view(np.int64)
    odd = (err != 0) & ((bits & 1) == 0)
    if odd.any():  # round s to odd: step one ulp towards the exact value
        step = np.where((err > 0) == (s > 0), 1, -1)
        s = np.where(odd, bits + step, bits).view(_f64)
    return th + s


# --------------------------------------------------------------------------------------------
# ATen's AVX2 Box-Muller (normal_fill_16_AVX2 with avx_mathfun.h's log256_ps/sincos256_ps),
# operation by operation in float32, with the multiply-adds GCC contracts into FMAs.

_LOG_P = [_f32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                            -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                            2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)]
_SQRTHF = _f32(0.707106781186547524)
_LOG_Q1 = _f32(-2.12194440e-4)
_LOG_Q2 = _f32(0.693359375)
_DP1 = _f32(-0.78515625)
_DP2 = _f32(-2.4187564849853515625e-4)
_DP3 = _f32(-3.77489497744594108e-8)
_SIN_P = [_f32(v) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]
_COS_P = [_f32(v) for v in (2.443315711809948E-005, -1.388731625493765E-003,
                            4.166664568298827E-002)]
_LOG_P64 = [float(p) for p in _LOG_P]  # the same float32 values, as Python floats
_SIN_P64 = [float(p) for p in _SIN_P]
_COS_P64 = [float(p) for p in _COS_P]
_FOPI = _f32(1.27323954473516)
_TWO_PI_F = _f32(2.0 * math.pi)
_ONE = _f32(1.0)
_HALF = _f32(0.5)


def _log256(x):
    """log256_ps for x in (0, 1]."""
    xi = x.view(np.int32)
    e = ((xi >> 23) - 0x7F).astype(_f32)
    e += _ONE
    x = ((xi & ~0x7F800000) | 0x3F000000).view(_f32)  # mantissa in [0.5, 1)
    mask = x < _SQRTHF
    x = np.where(mask, x + x, x) - _ONE  # (x - 1) + (x if x < SQRTHF) is exact either way
    e -= mask
    z = x * x
    # Horner with FMAs: each step's float64 sum rounded once to float32 (see
    # _fma32_box_muller for why that is exact here), x kept in float64 across the steps
    x64 = x.astype(_f64)
    t = x64 * _LOG_P64[0]
    t += _LOG_P64[1]
    for p in _LOG_P64[2:]:
        t = t.astype(_f32).astype(_f64)
        t *= x64
        t += p
    y = t.astype(_f32) * x
    y = _fma32_box_muller(y, z, e * _LOG_Q1)
    y -= z * _HALF
    x += y
    x += e * _LOG_Q2  # e * q2 is exact, so its FMA needs no emulation
    return x


def _poly2(z, z64, coefs):
    """fma(fma(c0, z, c1), z, c2) in float32, then times z."""
    t = z64 * coefs[0]
    t += coefs[1]
    t = t.astype(_f32).astype(_f64)
    t *= z64
    t += coefs[2]
    return t.astype(_f32) * z


def _sincos256(x):
    """sincos256_ps for x >= 0; returns (sin, cos)."""
    j = (x * _FOPI).astype(np.int32)
    j += 1
    j &= ~1
    y = j.astype(_f32)
    sin_sign = (j & 4) << 29  # the sign bits that sincos256_ps xors in
    cos_sign = (~(j - 2) & 4) << 29
    poly = (j & 2) == 0
    x = x + y * _DP1  # y * DP1 and y * DP2 are exact: fused or not, the same
    x += y * _DP2
    x = _fma32_box_muller(y, _DP3, x)
    z = x * x
    z64 = z.astype(_f64)
    yc = _fma32_box_muller(_poly2(z, z64, _COS_P64), z, -(z * _HALF))
    yc += _ONE
    ys = _fma32_box_muller(_poly2(z, z64, _SIN_P64), x, x)
    s = np.where(poly, ys, yc).view(np.int32)
    c = np.where(poly, yc, ys).view(np.int32)
    s ^= sin_sign
    c ^= cos_sign
    return s.view(_f32), c.view(_f32)


def _affine32(v, mean, std):
    """fmadd(v, std, mean) in float32 (the std == 1 / mean == 0 shortcuts keep its -0 -> +0)."""
    if std == 1:
        return v + mean
    if mean == 0:
        return v * std + mean
    return _fma32(v, std, mean)


def _affine64(v, mean: float, std: float):
    """fma(v, std, mean) in float64, as ATen's contracted ``v * std + mean``."""
    if std == 1:
        return v + mean
    if mean == 0:
        return v * std + mean
    if v.size <= _CHUNK:
        return _fma64(v, std, mean)
    flat = v.reshape(-1)
    out = np.empty_like(flat)
    for i in range(0, flat.size, _CHUNK):  # blocks that keep the temporaries in cache
        out[i:i + _CHUNK] = _fma64(flat[i:i + _CHUNK], std, mean)
    return out.reshape(v.shape)


def _box_muller16_f32(u, mean: float, std: float):
    """normal_fill_16_AVX2 on rows of 16 float32 uniforms: (m, 16) -> (m, 16)."""
    radius = np.sqrt(_f32(-2.0) * _log256(_ONE - u[:, :8]))
    s, c = _sincos256(_TWO_PI_F * u[:, 8:])
    m32, s32 = _f32(mean), _f32(std)
    out = np.empty_like(u)
    out[:, :8] = _affine32(radius * c, m32, s32)
    out[:, 8:] = _affine32(radius * s, m32, s32)
    return out


def _box_muller16_f64(u, mean: float, std: float):
    """normal_fill_16<double> on rows of 16 float64 uniforms (libm log/cos/sin)."""
    radius = np.sqrt(-2.0 * _libm.log(1.0 - u[:, :8]))
    theta = (2.0 * math.pi) * u[:, 8:]
    out = np.empty_like(u)
    out[:, :8] = _affine64(radius * _libm.cos(theta), mean, std)
    out[:, 8:] = _affine64(radius * _libm.sin(theta), mean, std)
    return out


def _normal_rows(u, fn, mean, std):
    m = u.shape[0]
    if m <= _CHUNK_ROWS:
        return fn(u, mean, std)
    out = np.empty_like(u)
    for i in range(0, m, _CHUNK_ROWS):
        out[i:i + _CHUNK_ROWS] = fn(u[i:i + _CHUNK_ROWS], mean, std)
    return out


# --------------------------------------------------------------------------------------------


class Generator:
    """A random number generator, like ``torch.Generator``.

    On the cpu it is PyTorch's MT19937 generator (see the module docstring for what is
    bit-identical); on cuda it delegates to CuPy.

    Args:
        device: ``'cpu'`` (default), ``'cuda'``, ``'cuda:N'`` or a ``lamina.device``.

    Example:
        >>> g = Generator().manual_seed(42)
        >>> g.initial_seed()
        42
    """

    __slots__ = ("_device", "_cuda", "_bg", "_seed", "_fresh", "_next_double", "_next_float",
                 "__weakref__")

    def __init__(self, device="cpu"):
        d = to_device(device)
        if d.type not in ("cpu", "cuda"):
            raise RuntimeError(f"Generator: device type {d.type!r} has no random generator; "
                               f"expected 'cpu' or 'cuda', got {str(d)!r}")
        self._device = d
        self._cuda = None if d.type == "cpu" else _CudaEngine(d.index)
        self._bg = None
        self._next_double = None
        self._next_float = None
        self._seed = 0
        self._fresh = True
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        """The ``lamina.device`` this generator produces numbers for."""
        return self._device

    # ------------------------------------------------------------------ seeding and state

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (any int in [-2**63, 2**64)); returns ``self`` like torch."""
        seed = _seed_value(seed)
        self._seed = seed
        self._next_double = self._next_float = None
        if self._cuda is not None:
            self._cuda.reset(seed)
            return self
        bg = self._bg
        if bg is not None:
            bg._legacy_seeding(seed & 0xFFFFFFFF)  # mt19937(seed) uses the low 32 bits
        # else: the engine is made and seeded from self._seed at the first draw (_engine), so
        # `import lamina` does not pay for importing numpy.random
        self._fresh = True
        return self

    def _engine(self):
        """The MT19937 bit generator, created (and seeded from ``_seed``) on first use."""
        bg = self._bg
        if bg is None:
            from numpy.random import MT19937

            # A fixed key avoids drawing OS entropy; the legacy seeding replaces it.
            bg = self._bg = MT19937(0)
            bg._legacy_seeding(self._seed & 0xFFFFFFFF)
        return bg

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the new seed."""
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed given to the last ``manual_seed`` (or ``seed``)."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor.

        On the cpu it is torch's ``CPUGeneratorImplState`` layout (5056 bytes), so
        ``torch.set_rng_state`` accepts it; on cuda it is 16 bytes (seed, call counter).
        """
        from ._tensor import _wrap

        return _wrap(self._state_bytes())

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
        self._load_state_bytes(np.ascontiguousarray(arr).reshape(-1))
        return self

    def clone_state(self) -> Generator:
        """A new generator on the same device with this generator's state."""
        g = Generator(self._device)
        g._load_state_bytes(self._state_bytes())
        return g

    def __getstate__(self):
        return {"device": str(self._device), "state": self._state_bytes()}

    def __setstate__(self, st):
        self.__init__(st["device"])
        self._load_state_bytes(st["state"])

    def _state_bytes(self) -> np.ndarray:
        if self._cuda is not None:
            return np.array([self._seed, self._cuda.counter], dtype="<u8").view(np.uint8)
        st = self._engine().state["state"]
        pos = int(st["pos"])
        rec = np.zeros((), dtype=_STATE_DTYPE)
        rec["seed"] = self._seed
        rec["left"] = _STATE_N + 1 - pos
        rec["seeded"] = 1
        # Freshly seeded, torch's engine says next=0 and numpy's pos=624; both mean "twist
        # before the next draw", which torch also writes as next=624 after a full block.
        rec["next"] = 0 if self._fresh else pos
        rec["state"] = st["key"]
        if self._next_double is not None:
            rec["normal_is_valid"] = 1
            rec["normal_y"] = self._next_double
        if self._next_float is not None:
            rec["next_float_valid"] = 1
            rec["next_float"] = self._next_float
        return rec.reshape(1).view(np.uint8).copy()

    def _load_state_bytes(self, arr: np.ndarray) -> None:
        if self._cuda is not None:
            if arr.size != 16:
                raise RuntimeError(f"Generator.set_state: a cuda state has 16 bytes; expected "
                                   f"16, got {arr.size}")
            seed, counter = (int(v) for v in arr.view("<u8"))
            self._seed = seed
            self._cuda.reset(seed, counter)
            return
        if arr.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found "
                               f"the input RNG state size to be {arr.size}")
        rec = arr.view(_STATE_DTYPE)[0]
        left, nxt, seeded = int(rec["left"]), int(rec["next"]), int(rec["seeded"])
        words = rec["state"]
        # torch's mt19937::is_valid, plus the invariant its engine keeps between left and next
        # (NumPy's engine has a single position, so a state breaking it cannot be represented).
        if (not seeded or not 1 <= left <= _STATE_N or nxt > _STATE_N
                or (left > 1 and nxt != _STATE_N + 1 - left) or (words >> 32).any()):
            raise RuntimeError("Invalid mt19937 state")
        self._seed = int(rec["seed"])
        self._engine().state = {"bit_generator": "MT19937",
                          "state": {"key": words.astype(np.uint32), "pos": _STATE_N + 1 - left}}
        self._fresh = left == 1 and nxt == 0
        self._next_double = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        self._next_float = float(rec["next_float"]) if rec["next_float_valid"] else None

    # ------------------------------------------------------------------ raw stream (cpu)

    def _raw(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws of ``CPUGeneratorImpl::random()`` (as uint64)."""
        if n:
            self._fresh = False
        return (self._bg or self._engine()).random_raw(n)

    def _raw64(self, n: int) -> np.ndarray:
        """``n`` draws of ``random64()``: two 32-bit draws each, the first is the high word."""
        r = self._raw(2 * n).reshape(n, 2)
        return (r[:, 0] << _S32) | r[:, 1]

    def _raw_blocks(self, n: int):
        """``_raw(n)`` as successive blocks, for a caller that transforms block after block
        (the raw words and the temporaries stay in cache)."""
        for i in range(0, n, _UCHUNK):
            yield self._raw(min(_UCHUNK, n - i))

    def _uniform53(self, n: int) -> np.ndarray:
        """``n`` float64 uniforms in [0, 1): the low 53 bits of ``random64()`` over 2**53."""
        r = self._raw(2 * n).reshape(n, 2)
        k = ((r[:, 0] & _M21) << _S32) | r[:, 1]
        return k.astype(_f64) * _TWO_M53

    def _uniform24(self, n: int) -> np.ndarray:
        """``n`` float32 uniforms in [0, 1): the low 24 bits of ``random()`` over 2**24."""
        u = (self._raw(n) & _M24).astype(_f32)
        u *= _TWO_M24
        return u

    # ------------------------------------------------------------------ distributions

    def _uniform(self, shape, low, high, dtype, out=None):
        """``torch.rand`` / ``Tensor.uniform_(low, high)``: an array of ``shape``.

        ``out`` (optional): an array of ``shape`` and ``dtype`` to fill instead of allocating
        one (a C-contiguous float32 one on the cpu is filled in place); it is returned.
        """
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        if dtype.kind != "f":
            raise RuntimeError(f"uniform_: not implemented for integer dtype; expected a "
                               f"floating point dtype, got {dtype}")
        low, high = float(low), float(high)
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={low:g} > to={high:g}")
        if self._cuda is not None:
            x = self._cuda.uniform(shape, low, high, dtype)
        else:
            n = _numel(shape)
            if dtype == _f32:
                direct = (out is not None and out.flags.c_contiguous and out.dtype == _f32
                          and out.shape == shape)
                x = self._uniform_f32(n, _f32(low), _f32(high),
                                      out.reshape(-1) if direct else None)
                if direct:
                    return out
                x = x.reshape(shape)
            else:
                if dtype == _f64:
                    x = self._uniform53(n)
                    if not (low == 0 and high == 1):
                        x = _affine64(x, low, high - low)
                else:  # half: sampled in float (opmath), then rounded
                    x = self._uniform_f32(n, _f32(low), _f32(high)).astype(dtype)
                x = _to_below(x, dtype.type(low), dtype.type(high)).reshape(shape)
        if out is None:
            return x
        out[...] = x
        return out

    def _uniform_f32(self, n: int, lo: np.float32, hi: np.float32, out=None) -> np.ndarray:
        """``n`` float32 uniforms in [lo, hi), into ``out`` (a flat float32 array) if given.

        ATen computes ``x * (to - from) + from`` with x = k / 2**24 (k: the low 24 bits of
        one draw), contracted to one FMA: the exact value rounded once. The paths below
        produce that same rounding.
        """
        d = hi - lo
        s = float(d) * 2.0**-24
        if math.isfinite(s) and float(_f32(s)) == s and (lo == 0 or lo == -hi):
            # k * d * 2**-24 + lo == (k - c) * s with c = 0 or 2**23 (symmetric bounds):
            # k - c and s are exact float32 values, and one float32 multiply rounds their
            # exact product once, as the FMA does. Neither path can round up to `hi`.
            c, s32, generic = (_f32(0) if lo == 0 else _f32(1 << 23)), _f32(s), False
        elif _fma_sum_exact(d, lo):
            generic = True  # the float64 sum is exact; its cast to float32 is the one rounding
        else:
            x = (self._raw(n) & _M24).astype(_f32) * _TWO_M24
            return _to_below(_fma32(x, d, lo), lo, hi, out)
        if out is None:
            out = np.empty(n, dtype=_f32)
        if not generic and n <= _UCHUNK:
            # one block (every layer of ordinary size): no block generator on the way
            r = self._raw(n)
            r &= _M24
            np.copyto(out, r.view(np.int64), casting="unsafe")  # k < 2**24: exact
            if c:
                out -= c
            out *= s32
            return out
        # Blocks of draws: the 64-bit raw words and the temporaries stay in cache (one pass
        # over memory for the output instead of several over 8-byte arrays).
        buf = None if not generic else np.empty(min(n, _UCHUNK), dtype=_f64)
        i = 0
        for r in self._raw_blocks(n):
            r &= _M24
            o = out[i:i + r.size]
            i += r.size
            if generic:
                b = buf[:r.size]
                np.multiply(r, s, out=b)  # k * d * 2**-24 is exact in float64
                b += float(lo)
                o[...] = b
                _to_below(o, lo, hi, o)
            else:
                np.copyto(o, r.view(np.int64), casting="unsafe")  # k < 2**24: exact
                if c:
                    o -= c
                o *= s32
        return out

    def _normal(self, shape, mean, std, dtype):
        """``torch.randn`` / ``Tensor.normal_(mean, std)``: a new array of ``shape``."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        if dtype.kind != "f":
            raise RuntimeError(f"normal_: not implemented for integer dtype; expected a "
                               f"floating point dtype, got {dtype}")
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if self._cuda is not None:
            return self._cuda.normal(shape, mean, std, dtype)
        n = _numel(shape)
        if n < 16:
            return _cast(self._normal_scalar(n, mean, std), dtype).reshape(shape)
        full = n - n % 16
        if dtype == np.float16:
            # Half: each block of 16 float uniforms is transformed in a float buffer and
            # rounded; the partial block is not drawn, only the recomputed last 16.
            u = self._uniform24(full + (16 if full != n else 0)).reshape(-1, 16)
            res = _normal_rows(u, _box_muller16_f32, mean, std).reshape(-1)
            out = np.empty(n, dtype=np.float16)
            out[:full] = res[:full]
            if full != n:
                out[n - 16:] = res[full:]
            return out.reshape(shape)
        # float/double: all n uniforms are drawn into the output first (the partial block's
        # are then overwritten), 16 more are drawn for the recomputed last 16 outputs.
        m = n + (16 if full != n else 0)
        if dtype == _f64:
            u, fn = self._uniform53(m), _box_muller16_f64
        else:
            u, fn = self._uniform24(m), _box_muller16_f32
        out = np.empty(n, dtype=u.dtype)
        out[:full] = _normal_rows(u[:full].reshape(-1, 16), fn, mean, std).reshape(-1)
        if full != n:
            out[n - 16:] = fn(u[n:].reshape(1, 16), mean, std).reshape(-1)
        return out.astype(dtype, copy=False).reshape(shape)

    def _normal_scalar(self, n: int, mean: float, std: float) -> np.ndarray:
        """ATen's normal_distribution<double> n times: Box-Muller pairs, second one cached."""
        vals = []
        cached = self._next_double
        if n and cached is not None:
            vals.append(cached)
            self._next_double = cached = None
        pairs = (n - len(vals) + 1) // 2
        if pairs:
            u = self._uniform53(2 * pairs).tolist()
            log1p, sqrt, sin, cos = math.log1p, math.sqrt, math.sin, math.cos
            for i in range(pairs):
                r = sqrt(-2.0 * log1p(-u[2 * i + 1]))
                theta = 2.0 * math.pi * u[2 * i]
                vals.append(r * cos(theta))
                vals.append(r * sin(theta))
            if len(vals) > n:
                self._next_double = vals.pop()
        return _affine64(np.array(vals, dtype=_f64), mean, std)

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
        n = _numel(shape)
        rng = high - low
        if rng >= _U64:  # [-2**63, 2**63): the full 64-bit range, random64 as is
            v = self._raw64(n).view(np.int64)
        else:
            # ATen (outside fbcode) takes random64() from a range of 2**28 on, to keep the
            # modulo bias small, for every dtype
            v = self._raw64(n) if rng >= (1 << 28) else self._raw(n)
            v = (v % _u64(rng)).astype(np.int64)
            v += np.int64(low)  # wraps like ATen's uint64 sum cast to int64
        return _cast(v, dtype).reshape(shape)

    def _random(self, shape, dtype):
        """``Tensor.random_()`` without bounds: [0, 2**mantissa] for floats, [0, max] else."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        if self._cuda is not None:
            hi = {np.dtype(np.float16): 2049, np.dtype(_f32): 2**24 + 1,
                  np.dtype(_f64): 2**53 + 1, np.dtype(np.bool_): 2}.get(dtype)
            hi = hi if hi is not None else int(np.iinfo(dtype).max) + 1
            return self._cuda.randint(0, hi, shape, dtype)
        n = _numel(shape)
        if dtype == np.bool_:
            return (self._raw(n) & np.uint64(1)).astype(np.bool_).reshape(shape)
        if dtype == _f64:
            v, mod = self._raw64(n), (1 << 53) + 1
        elif dtype == np.int64:
            v, mod = self._raw64(n), 1 << 63
        elif dtype.kind == "f":
            v, mod = self._raw(n), (1 << int(np.finfo(dtype).nmant + 1)) + 1
        else:
            v, mod = self._raw(n), int(np.iinfo(dtype).max) + 1
        return (v % _u64(mod)).astype(dtype).reshape(shape)

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
        if n < _RANDPERM_SMALL:
            if n < 2:
                return np.arange(n, dtype=dtype)
            # step i swaps positions i and i + z[i]
            z = (self._raw(n - 1) % np.arange(n, 1, -1, dtype=_u64)).astype(np.int64)
            if n <= _RANDPERM_LOOP_MAX:
                perm = list(range(n))
                for i, zi in enumerate(z.tolist()):
                    j = i + zi
                    perm[i], perm[j] = perm[j], perm[i]
                return np.array(perm, dtype=dtype)
            return _apply_swaps(z).astype(dtype, copy=False)
        # ATen's inside-out shuffle with random64() for n >= uint32 max / 20 (slow here)
        z = self._raw64(n) % (np.arange(n, dtype=_u64) + _u64(1))
        perm = list(range(n))
        for i, zi in enumerate(z.tolist()):
            perm[i] = perm[zi]
            perm[zi] = i
        return np.array(perm, dtype=dtype)

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
        n = p.size
        if p.dtype == _f64:
            u = self._uniform53(n)
        else:
            u = self._uniform24(n)
            p = p.astype(_f32, copy=False)
        return (u < p.reshape(-1)).astype(dtype).reshape(p.shape)

    def _bernoulli_shape(self, shape, p, dtype):
        """``Tensor.bernoulli_(p)`` with a float ``p`` (dropout masks): 53-bit uniforms < p."""
        dtype = _as_np_dtype(dtype)
        shape = tuple(shape)
        p = float(p)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        if self._cuda is not None:
            return self._cuda.bernoulli_shape(shape, p, dtype)
        return (self._uniform53(_numel(shape)) < p).astype(dtype).reshape(shape)

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
        u = self._uniform53(_numel(shape))
        return _cast(-1.0 / lambd * _libm.log1p(-u), dtype).reshape(shape)

    def _multinomial(self, probs, num_samples, replacement=False):
        """``torch.multinomial(probs, num_samples, replacement)``: an int64 index array.

        Without replacement (or for a single sample) ATen draws ``q ~ Exp(1)`` like ``probs``
        and takes the top-k of ``probs / q``; with replacement it inverts the normalized
        cumulative sum with one 53-bit uniform per sample, row after row.
        """
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
        if not replacement or num_samples == 1:
            q = self._exponential(probs.shape, 1.0, probs.dtype)
            q = probs / q
            if num_samples == 1:
                return np.argmax(q, axis=-1, keepdims=True).astype(np.int64)
            order = np.argsort(-q, axis=-1, kind="stable")
            return np.ascontiguousarray(order[..., :num_samples]).astype(np.int64)
        rows = probs.reshape(-1, n_cat)
        acc = _f64 if probs.dtype == _f64 else _f32
        cum = np.cumsum(rows.astype(acc), axis=-1)  # sequential, like ATen's loop
        cum /= cum[:, -1:]
        cum[:, -1] = 1
        u = self._uniform53(rows.shape[0] * num_samples).reshape(rows.shape[0], num_samples)
        out = np.empty(u.shape, dtype=np.int64)
        for i in range(rows.shape[0]):
            out[i] = np.searchsorted(cum[i].astype(_f64), u[i], side="left")
        return out.reshape(probs.shape[:-1] + (num_samples,))


def _apply_swaps(z: np.ndarray) -> np.ndarray:
    """The permutation left by swapping positions i and t[i] = i + z[i], for i = 0, 1, ...

    Vectorized: before step i, position p >= i holds the value that position k held before
    step k, for the last step k < i that swapped into p (or p itself if none did). Position i
    ends with what its swap partner held: that of the previous step with the same target. The
    "value before step k" links form chains, resolved by pointer jumping.
    """
    m = z.size
    n = m + 1
    steps = np.arange(m, dtype=np.int64)
    t = steps + z
    order = np.argsort(t * n + steps)  # grouped by target, steps ascending (unique keys)
    ts = t.take(order)
    same = ts[1:] == ts[:-1]
    pred = np.full(m, -1, dtype=np.int64)  # previous step with the same target
    pred[order[1:][same]] = order[:-1][same]
    last = np.empty(m, dtype=bool)
    last[-1] = True
    np.not_equal(ts[1:], ts[:-1], out=last[:-1])
    tl, ol = ts[last], order[last]  # each target and the last step aiming at it
    link = np.arange(n, dtype=np.int64)  # value before step k comes from step link[k]
    before = ol < tl
    link[tl[before]] = ol[before]
    own = ~before  # the last step aiming at p is p itself (z = 0): the one before it counts
    prev = pred.take(ol[own])
    link[tl[own][prev >= 0]] = prev[prev >= 0]
    while True:
        nxt = link.take(link)
        if np.array_equal(nxt, link):
            break
        link = nxt
    has = pred >= 0
    out = np.empty(n, dtype=np.int64)
    out[:m] = np.where(has, link.take(np.where(has, pred, 0)), t)
    out[m] = link[m]
    return out


def _to_below(x, low, high, out=None):
    """ATen's uniform: a value that rounded up to ``to`` becomes ``from``, keeping [from, to)."""
    if out is not None and out is not x:
        out[...] = x
        x = out
    if x.size and x.max() == high and low != high:
        x[x == high] = low
    return x


def _fma_sum_exact(d: np.float32, lo: np.float32) -> bool:
    """True when k * 2**-24 * d + lo is exact in float64 for every 24-bit integer k."""
    if d == 0 or lo == 0:
        return True
    md, ed = math.frexp(float(d))  # d = md * 2**ed, |md| in [0.5, 1): 24-bit mantissa
    ml, el = math.frexp(float(lo))
    qd, ql = ed - 24 - 24, el - 24  # weights of the lowest bits of k*d*2**-24 and of lo
    q = min(qd, ql)
    top = max(ed, el) + 1  # the sum is below 2**top
    return top - q <= 53


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
# cuda: CuPy's Philox generator, reseeded per call from (seed, call counter) so that the state
# is two integers (like torch's cuda state: seed and offset) and get/set_state are exact.


class _CudaEngine:
    __slots__ = ("index", "seed", "counter", "_rs", "_dev", "xp")

    def __init__(self, index):
        self.index = 0 if index is None else index
        self.seed = 0
        self.counter = 0
        self._rs = None
        self._dev = None
        self.xp = None

    def reset(self, seed: int, counter: int = 0) -> None:
        self.seed = seed
        self.counter = counter

    def ensure(self):
        """Import CuPy and create the RandomState on first use; returns the array module."""
        if self._rs is None:
            from ._backends.cupy_backend import get

            b = get(self.index)
            self._dev = b.xp.cuda.Device(self.index)
            curand = getattr(b.xp.cuda, "curand", None)
            if curand is None:
                from cupy_backends.cuda.libs import curand
            with self._dev:
                self._rs = b.xp.random.RandomState(
                    0, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
            self.xp = b.xp
        return self.xp

    def _stream(self):
        """The RandomState, seeded for this call from (seed, call counter)."""
        self.ensure()
        self._rs.seed(_splitmix64(self.seed ^ _splitmix64(self.counter)) >> 1)  # < 2**63
        self.counter += 1
        return self._rs

    def uniform(self, shape, low, high, dtype):
        rs = self._stream()
        with self._dev:
            rt = dtype if dtype in (_f32, _f64) else _f32
            return rs.uniform(low, high, size=shape, dtype=rt).astype(dtype, copy=False)

    def normal(self, shape, mean, std, dtype):
        rs = self._stream()
        with self._dev:
            rt = dtype if dtype in (_f32, _f64) else _f32
            return rs.normal(mean, std, size=shape, dtype=rt).astype(dtype, copy=False)

    def randint(self, low, high, shape, dtype):
        rs = self._stream()
        with self._dev:
            if high - low <= (1 << 63) - 1 and -(1 << 63) <= low:
                v = rs.randint(0, high - low, size=shape, dtype=np.int64) + low
            else:  # the full int64 range: two 32-bit halves
                hi = rs.randint(0, 1 << 32, size=shape, dtype=np.uint64)
                lo = rs.randint(0, 1 << 32, size=shape, dtype=np.uint64)
                v = ((hi << 32) | lo).view(np.int64)
            return v.astype(dtype, copy=False)

    def randperm(self, n, dtype):
        rs = self._stream()
        with self._dev:
            return rs.permutation(n).astype(dtype, copy=False)

    def bernoulli(self, p, dtype):
        rs = self._stream()
        with self._dev:
            rt = _f64 if p.dtype == _f64 else _f32
            return (rs.random_sample(size=p.shape, dtype=rt) < p).astype(dtype)

    def bernoulli_shape(self, shape, p, dtype):
        rs = self._stream()
        with self._dev:
            return (rs.random_sample(size=shape, dtype=_f64) < p).astype(dtype)

    def exponential(self, shape, lambd, dtype):
        rs = self._stream()
        with self._dev:
            rt = dtype if dtype in (_f32, _f64) else _f32
            q = rs.standard_exponential(size=shape, dtype=rt)
            return (q / rt.type(lambd)).astype(dtype, copy=False)

    def multinomial(self, probs, num_samples, replacement):
        rs = self._stream()
        xp = self.xp
        with self._dev:
            if not replacement or num_samples == 1:
                q = rs.standard_exponential(size=probs.shape, dtype=_f64)
                order = xp.argsort(-(probs.astype(_f64) / q), axis=-1)
                return xp.ascontiguousarray(order[..., :num_samples]).astype(np.int64)
            rows = probs.reshape(-1, probs.shape[-1]).astype(_f64)
            cum = xp.cumsum(rows, axis=-1)
            cum /= cum[:, -1:]
            cum[:, -1] = 1
            u = rs.random_sample(size=(rows.shape[0], num_samples), dtype=_f64)
            # one searchsorted over all rows: shift row i into [2i, 2i + 1]
            shift = 2.0 * xp.arange(rows.shape[0], dtype=_f64)[:, None]
            flat = (cum + shift).reshape(-1)
            idx = xp.searchsorted(flat, (u + shift).reshape(-1), side="left")
            idx = idx.reshape(u.shape) - rows.shape[1] * xp.arange(rows.shape[0])[:, None]
            idx = xp.minimum(idx, rows.shape[1] - 1)
            return idx.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) % _U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % _U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % _U64
    return x ^ (x >> 31)


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


def _get_default_generator(device=None) -> Generator:
    """The default generator of a device (cpu or cuda:N; cuda ones are created on first use)."""
    if device is None:
        return default_generator
    d = to_device(device)
    if d.type == "cpu":
        return default_generator
    if d.type != "cuda":
        raise RuntimeError(f"no random generator for device {str(d)!r}; expected cpu or cuda")
    g = _cuda_generators.get(d.index)
    if g is None:
        g = Generator(d)
        s = _cuda_pending.pop(d.index, _cuda_pending_all)
        if s is not None:
            g.manual_seed(s)
        _cuda_generators[d.index] = g
    return g


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
    from . import cuda

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
    saved = [(g, g._state_bytes()) for g in [default_generator, *gens]]
    try:
        yield
    finally:
        for g, st in saved:
            g._load_state_bytes(st)
