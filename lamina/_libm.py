"""The C library's float64 ``log``, ``log1p``, ``sin`` and ``cos`` on NumPy arrays, bit for bit.

torch's CPU random kernels (float64 Box-Muller in ``normal_``, ``exponential_``) call these
functions through the C library (glibc's libm). NumPy calls the same libm functions for float64
on most CPUs, but where it dispatches SIMD kernels of its own (its AVX-512 builds of
``log``/``sin``/``cos``/``log1p``) results differ from libm's in the last bit for a few inputs
in a thousand, and so would every draw built on them.

Which path NumPy takes is not predictable from outside (CPU, NumPy version, the
``NPY_DISABLE_CPU_FEATURES`` setting), so it is measured: the first call of each function
compares candidate strategies with Python's ``math`` module, which is a thin wrapper over the
same libm call torch makes, on a fixed probe set (random-looking values over the domain the
kernels use, plus hard inputs: values next to 1, tiny, subnormal and huge), and keeps the
first one that reproduces libm on every probe:

1. the NumPy ufunc as it is (NumPy's loop calls libm);
2. the NumPy ufunc writing into a strided output (NumPy's SIMD ``log``/``exp`` loops need a
   contiguous output and fall back to libm otherwise);
3. one libm call per element through ``math`` (always right, about 5x slower).

The choice depends only on which code NumPy runs, never on machine load, and the values are
libm's under every strategy. ``strategy(name)`` tells which one is in use.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["log", "log1p", "sin", "cos", "strategy"]

_f64 = np.float64
_PROBE_N = 1 << 14


def _weyl(n: int) -> np.ndarray:
    """n well-spread values in [0, 1) (a Weyl sequence of the golden ratio; no RNG needed)."""
    k = np.arange(1, n + 1, dtype=_f64)
    return (k * 0.6180339887498949) % 1.0


def _probe(name: str) -> np.ndarray:
    u = _weyl(_PROBE_N)
    tiny = np.array([5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-100, 1e-20, 2.0**-53,
                     1e-10, 1e-5])
    if name == "log":  # used on 1 - u, u a 53-bit uniform: (0, 1]
        near1 = 1.0 - np.arange(1, 257) * 2.0**-53
        return np.concatenate([1.0 - u, near1, tiny, [0.5, 0.75, 1.0, 2.0, 10.0, 1e300]])
    if name == "log1p":  # used on -u: (-1, 0]
        return np.concatenate([-u, -np.arange(1, 257) * 2.0**-53, -tiny, [-0.9999999999999999, -0.999999999],
                               [0.0, 1e-8, 1.0, 1e300]])
    # sin / cos: used on 2*pi*u, [0, 2*pi)
    theta = (2.0 * math.pi) * u
    near = np.array([math.pi, math.pi / 2, 2 * math.pi, 3 * math.pi / 2])
    near = np.concatenate([near, np.nextafter(near, 0.0), np.nextafter(near, 10.0)])
    return np.concatenate([theta, near, tiny, [1e5, 1e22, 1e300, 12345.678]])


def _plain(ufunc, x: np.ndarray) -> np.ndarray:
    return ufunc(x)


def _strided(ufunc, x: np.ndarray) -> np.ndarray:
    buf = np.empty(2 * x.size, dtype=_f64)
    out = buf[::2]
    ufunc(x.reshape(-1), out=out)
    return out.reshape(x.shape)


def _per_element(fn):
    def call(ufunc, x: np.ndarray) -> np.ndarray:
        flat = x.reshape(-1).tolist()
        try:
            res = np.fromiter(map(fn, flat), dtype=_f64, count=len(flat))
        except (ValueError, OverflowError):  # out of math's domain: NumPy's special values
            fallback = ufunc(x.reshape(-1))
            res = np.array([_safe(fn, v, f) for v, f in zip(flat, fallback.tolist())],
                           dtype=_f64)
        return res.reshape(x.shape)
    return call


def _safe(fn, v, fallback):
    try:
        return fn(v)
    except (ValueError, OverflowError):
        return fallback


_FUNCS = {"log": (np.log, math.log), "log1p": (np.log1p, math.log1p),
          "sin": (np.sin, math.sin), "cos": (np.cos, math.cos)}
_STRATEGIES = {"numpy": _plain, "numpy-strided": _strided}
_chosen: dict[str, tuple[str, object]] = {}


def _choose(name: str):
    ufunc, fn = _FUNCS[name]
    x = _probe(name)
    with np.errstate(all="ignore"):
        want = np.array([_safe(fn, v, f) for v, f in zip(x.tolist(), ufunc(x).tolist())])
        for label, strat in _STRATEGIES.items():
            got = strat(ufunc, x)
            if np.array_equal(got.view(np.int64), want.view(np.int64)):
                return label, strat
    return "per-element", _per_element(fn)


def _impl(name: str):
    c = _chosen.get(name)
    if c is None:
        c = _chosen[name] = _choose(name)
    return c[1]


def strategy(name: str) -> str:
    """Which strategy reproduces libm's ``name`` in this process: 'numpy', 'numpy-strided'
    or 'per-element'."""
    _impl(name)
    return _chosen[name][0]


def _apply(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=_f64)
    return _impl(name)(_FUNCS[name][0], x)


def log(x) -> np.ndarray:
    """libm ``log`` of a float64 array."""
    return _apply("log", x)


def log1p(x) -> np.ndarray:
    """libm ``log1p`` of a float64 array."""
    return _apply("log1p", x)


def sin(x) -> np.ndarray:
    """libm ``sin`` of a float64 array."""
    return _apply("sin", x)


def cos(x) -> np.ndarray:
    """libm ``cos`` of a float64 array."""
    return _apply("cos", x)
