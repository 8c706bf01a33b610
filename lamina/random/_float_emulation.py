"""torch's float arithmetic for random draws, emulated in NumPy, bit for bit.

ATen's CPU kernels turn raw 32-bit draws into floats with operations that NumPy lacks or
rounds differently: the uniform conversions (24 bits of one draw for a float32, 53 bits of two
for a float64) and their mapping onto [from, to), fused multiply-adds (ATen's AVX2 kernels are
compiled with FMA contraction), and the AVX2 Box-Muller transform (``normal_fill_16_AVX2`` with
avx_mathfun.h's ``log256_ps``/``sincos256_ps``). Each function here computes what torch
computes; ``_cpu_kernels`` decides which draws go in. The float64 transforms call the C
library's ``log``/``sin``/``cos`` as torch does, through ``lamina._libm``, whatever SIMD
kernels NumPy dispatches on the CPU at hand.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _libm

_f32 = np.float32
_f64 = np.float64
_u64 = np.uint64
_M24 = np.uint64(0xFFFFFF)
_M53 = np.uint64((1 << 53) - 1)
_TWO_M24 = np.float32(2.0**-24)
_TWO_M53 = 2.0**-53
_CHUNK = 1 << 15  # elements per block of the emulated-FMA paths (temporaries stay in cache)
_CHUNK_ROWS = _CHUNK // 16


# --------------------------------------------------------------------------------------------
# Draws to floats.


def uniform24(raw: np.ndarray) -> np.ndarray:
    """float32 uniforms in [0, 1) from 32-bit draws: the low 24 bits over 2**24."""
    u = (raw & _M24).astype(_f32)
    u *= _TWO_M24
    return u


def uniform53(raw64: np.ndarray) -> np.ndarray:
    """float64 uniforms in [0, 1) from ``random64()`` draws: the low 53 bits over 2**53."""
    return (raw64 & _M53).astype(_f64) * _TWO_M53


def cast(x: np.ndarray, dtype) -> np.ndarray:
    """``static_cast<scalar_t>`` of doubles/int64s: half goes through float, as in C++."""
    if dtype == np.float16:
        x = x.astype(_f32)
    return x.astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Exact fused multiply-add. ATen's AVX2 kernels are compiled with FMA contraction, so matching
# them needs a correctly rounded a*b + c, which NumPy lacks.


def fma32(a, b, c):
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


def fma32_box_muller(a, b, c):
    """float32 ``a * b + c`` rounded through float64, for the Box-Muller kernels only.

    Double rounding never bites there: their inputs are functions of one 24-bit uniform, and
    enumerating all 2**24 of them shows that, in every FMA of ``log256`` and ``sincos256``,
    the float64 sum is either exact or not on a float32 midpoint (tests/test_random.py checks
    a subset of that enumeration against ``fma32``).
    """
    t = np.multiply(a, b, dtype=_f64)
    t += c
    return t.astype(_f32)


def _split(x):
    g = x * 134217729.0  # Veltkamp split with 2**27 + 1
    hi = g - (g - x)
    return hi, x - hi


def fma64(a, b: float, c: float):
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


def log256(x):
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
    # fma32_box_muller for why that is exact here), x kept in float64 across the steps
    x64 = x.astype(_f64)
    t = x64 * _LOG_P64[0]
    t += _LOG_P64[1]
    for p in _LOG_P64[2:]:
        t = t.astype(_f32).astype(_f64)
        t *= x64
        t += p
    y = t.astype(_f32) * x
    y = fma32_box_muller(y, z, e * _LOG_Q1)
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


def sincos256(x):
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
    x = fma32_box_muller(y, _DP3, x)
    z = x * x
    z64 = z.astype(_f64)
    yc = fma32_box_muller(_poly2(z, z64, _COS_P64), z, -(z * _HALF))
    yc += _ONE
    ys = fma32_box_muller(_poly2(z, z64, _SIN_P64), x, x)
    s = np.where(poly, ys, yc).view(np.int32)
    c = np.where(poly, yc, ys).view(np.int32)
    s ^= sin_sign
    c ^= cos_sign
    return s.view(_f32), c.view(_f32)


def affine32(v, mean, std):
    """fmadd(v, std, mean) in float32 (the std == 1 / mean == 0 shortcuts keep its -0 -> +0)."""
    if std == 1:
        return v + mean
    if mean == 0:
        return v * std + mean
    return fma32(v, std, mean)


def affine64(v, mean: float, std: float):
    """fma(v, std, mean) in float64, as ATen's contracted ``v * std + mean``."""
    if std == 1:
        return v + mean
    if mean == 0:
        return v * std + mean
    if v.size <= _CHUNK:
        return fma64(v, std, mean)
    flat = v.reshape(-1)
    out = np.empty_like(flat)
    for i in range(0, flat.size, _CHUNK):  # blocks that keep the temporaries in cache
        out[i:i + _CHUNK] = fma64(flat[i:i + _CHUNK], std, mean)
    return out.reshape(v.shape)


def box_muller16_f32(u, mean: float, std: float):
    """normal_fill_16_AVX2 on rows of 16 float32 uniforms: (m, 16) -> (m, 16)."""
    radius = np.sqrt(_f32(-2.0) * log256(_ONE - u[:, :8]))
    s, c = sincos256(_TWO_PI_F * u[:, 8:])
    m32, s32 = _f32(mean), _f32(std)
    out = np.empty_like(u)
    out[:, :8] = affine32(radius * c, m32, s32)
    out[:, 8:] = affine32(radius * s, m32, s32)
    return out


def box_muller16_f64(u, mean: float, std: float):
    """normal_fill_16<double> on rows of 16 float64 uniforms (libm log/cos/sin)."""
    radius = np.sqrt(-2.0 * _libm.log(1.0 - u[:, :8]))
    theta = (2.0 * math.pi) * u[:, 8:]
    out = np.empty_like(u)
    out[:, :8] = affine64(radius * _libm.cos(theta), mean, std)
    out[:, 8:] = affine64(radius * _libm.sin(theta), mean, std)
    return out


def normal_rows(u, fn, mean, std):
    """``fn`` (a 16-wide Box-Muller) over the rows of ``u`` in blocks that stay in cache."""
    m = u.shape[0]
    if m <= _CHUNK_ROWS:
        return fn(u, mean, std)
    out = np.empty_like(u)
    for i in range(0, m, _CHUNK_ROWS):
        out[i:i + _CHUNK_ROWS] = fn(u[i:i + _CHUNK_ROWS], mean, std)
    return out


# --------------------------------------------------------------------------------------------
# The uniform's range [from, to).


def to_below(x, low, high, out=None):
    """ATen's uniform: a value that rounded up to ``to`` becomes ``from``, keeping [from, to)."""
    if out is not None and out is not x:
        out[...] = x
        x = out
    if x.size and x.max() == high and low != high:
        x[x == high] = low
    return x


def fma_sum_exact(d: np.float32, lo: np.float32) -> bool:
    """True when k * 2**-24 * d + lo is exact in float64 for every 24-bit integer k."""
    if d == 0 or lo == 0:
        return True
    md, ed = math.frexp(float(d))  # d = md * 2**ed, |md| in [0.5, 1): 24-bit mantissa
    ml, el = math.frexp(float(lo))
    qd, ql = ed - 24 - 24, el - 24  # weights of the lowest bits of k*d*2**-24 and of lo
    q = min(qd, ql)
    top = max(ed, el) + 1  # the sum is below 2**top
    return top - q <= 53
