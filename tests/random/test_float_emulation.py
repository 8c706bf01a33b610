"""lamina/random/_float_emulation.py: torch's float arithmetic of random draws, bit for bit
(exact FMAs against rational arithmetic, the AVX2 Box-Muller against a plain transcription,
the uniform conversions and range mapping)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from lamina.random import _float_emulation as fe


def test_uniform_conversions_take_torchs_bits():
    # float32: the low 24 bits of one draw over 2**24; float64: the low 53 bits of random64()
    raw = np.array([0, 1, 0xFFFFFF, 0x1000000, 0xFFFFFFFF], dtype=np.uint64)
    np.testing.assert_array_equal(
        fe.uniform24(raw), np.array([0, 2.0**-24, 1 - 2.0**-24, 0, 1 - 2.0**-24], np.float32))
    assert fe.uniform24(raw).dtype == np.float32
    r64 = np.array([0, 1, (1 << 53) - 1, 1 << 53, (1 << 64) - 1], dtype=np.uint64)
    np.testing.assert_array_equal(fe.uniform53(r64), [0, 2.0**-53, 1 - 2.0**-53, 0, 1 - 2.0**-53])
    g = torch.Generator().manual_seed(8)
    ref = torch.rand(4, dtype=torch.float64, generator=g).numpy()
    from lamina.random._mt19937 import MT19937

    np.testing.assert_array_equal(fe.uniform53(MT19937(8).raw64(4)), ref)


def test_to_below_maps_the_upper_bound_to_the_lower():
    x = np.array([1.0, 3.0, 2.5, 3.0], np.float16)  # 3.0: a value that rounded up to `to`
    np.testing.assert_array_equal(fe.to_below(x, np.float16(1), np.float16(3)), [1, 1, 2.5, 1])
    out = np.empty(2, np.float32)
    assert fe.to_below(np.array([2.0, 1.5], np.float32), 1.0, 2.0, out) is out
    np.testing.assert_array_equal(out, [1.0, 1.5])
    np.testing.assert_array_equal(fe.to_below(np.full(3, 5.0), 5.0, 5.0), [5, 5, 5])  # from == to


def test_fma_sum_exact():
    # k * 2**-24 * d + lo in float64 for every 24-bit k: exact when the bits fit in 53
    assert fe.fma_sum_exact(np.float32(0.5), np.float32(0.25))
    assert fe.fma_sum_exact(np.float32(3.0), np.float32(0.0))
    assert not fe.fma_sum_exact(np.float32(1e-8), np.float32(1e4))


def _exact32(a, b, c):
    v = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    lo = np.float32(float(v))  # float(v) rounds once; fix the float32 rounding exactly
    cands = [np.nextafter(lo, np.float32(-np.inf)), lo, np.nextafter(lo, np.float32(np.inf))]
    dist = [abs(Fraction(float(x)) - v) for x in cands]
    best = min(dist)
    ties = [x for x, d in zip(cands, dist) if d == best]
    return ties[0] if len(ties) == 1 else [x for x in ties if not x.view(np.int32) & 1][0]


def test_double_to_half_goes_through_float():
    # C++'s static_cast<Half>(double) converts to float first; NumPy would round once
    x = np.array([1 + 2.0**-11 + 2.0**-40])
    assert fe.cast(x, np.float16)[0] == 1.0
    assert x.astype(np.float16)[0] != 1.0
    assert torch.from_numpy(x).to(torch.float16).item() == 1.0


def test_fma32_is_correctly_rounded():
    a = np.float32(2.0**-24 * (1 + 2.0**-10))
    b = np.float32(1 - 2.0**-10 + 2.0**-20)
    # a*b + 1 = 1 + 2**-24 + 2**-54: float64 lands on the float32 midpoint, exact is above
    r = fe.fma32(np.array([a]), b, np.float32(1.0))
    assert r[0] == np.float32(1 + 2.0**-23)
    assert np.float32(np.float64(a) * np.float64(b) + 1.0) == np.float32(1.0)  # naive: wrong
    a2 = np.float32(2.0**-24 * (1 - 2.0**-10))
    b2 = np.float32(1 + 2.0**-10 + 2.0**-20)
    c2 = np.float32(1 + 2.0**-23)
    assert fe.fma32(np.array([a2]), b2, c2)[0] == c2  # exact is below the midpoint
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(3000) * 2.0 ** rng.integers(-30, 30, 3000)).astype(np.float32)
    y = (rng.standard_normal(3000) * 2.0 ** rng.integers(-30, 30, 3000)).astype(np.float32)
    z = (rng.standard_normal(3000) * 2.0 ** rng.integers(-30, 30, 3000)).astype(np.float32)
    got = fe.fma32(x, y, z)
    want = np.array([_exact32(*t) for t in zip(x, y, z)], dtype=np.float32)
    np.testing.assert_array_equal(got, want)


def _ref_log256(x):
    """avx_mathfun's log256_ps step by step, every FMA exactly rounded."""
    f32, fma = np.float32, fe.fma32
    xi = x.view(np.int32)
    e = ((xi >> 23) - 0x7F).astype(f32) + f32(1)
    x = ((xi & ~0x7F800000) | 0x3F000000).view(f32)
    mask = x < fe._SQRTHF
    tmp = np.where(mask, x, f32(0))
    x = x - f32(1)
    e = e - np.where(mask, f32(1), f32(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, fe._LOG_P[0])
    for p in fe._LOG_P[1:]:
        y = fma(y, x, p)
    y = fma(y * x, z, e * fe._LOG_Q1)
    y = fma(-z, f32(0.5), y)
    return fma(e, fe._LOG_Q2, x + y)


def _ref_sincos256(x):
    f32, fma = np.float32, fe.fma32
    j = (x * fe._FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(f32)
    x = fma(y, fe._DP1, x)
    x = fma(y, fe._DP2, x)
    x = fma(y, fe._DP3, x)
    z = x * x
    yc = fma(fma(np.full_like(x, fe._COS_P[0]), z, fe._COS_P[1]), z,
             fe._COS_P[2])
    yc = fma(yc * z, z, -(z * f32(0.5))) + f32(1)  # GCC fuses the last multiply
    ys = fma(fma(np.full_like(x, fe._SIN_P[0]), z, fe._SIN_P[1]), z,
             fe._SIN_P[2])
    ys = fma(ys * z, x, x)
    poly = (j & 2) == 0
    s, c = np.where(poly, ys, yc), np.where(poly, yc, ys)
    return np.where((j & 4) != 0, -s, s), np.where((~(j - 2) & 4) != 0, -c, c)


def test_box_muller_kernels_match_exact_reference():
    # lamina's log256/sincos256 round float64 sums straight to float32 (all 2**24 possible
    # inputs were compared with torch offline); re-check a spread subset against a plain
    # transcription of avx_mathfun.h whose every FMA is exactly rounded.
    k = np.concatenate([np.arange(0, 1 << 24, 29), np.arange((1 << 24) - 4096, 1 << 24)])
    u = k.astype(np.float32) * np.float32(2.0**-24)
    theta = fe._TWO_PI_F * u
    pairs = [(fe.log256(np.float32(1) - u), _ref_log256(np.float32(1) - u)),
             *zip(fe.sincos256(theta), _ref_sincos256(theta))]
    for got, want in pairs:
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_fma64_is_correctly_rounded():
    rng = np.random.default_rng(6)
    x = rng.standard_normal(3000) * 2.0 ** rng.integers(-40, 40, 3000)
    for b, c in [(3.3, 0.5), (-1e-5, 7.25), (1 / 3, -1 / 7), (2.0**-30, 1e10)]:
        got = fe.fma64(x, b, c)
        want = [float(Fraction(float(v)) * Fraction(b) + Fraction(c)) for v in x]
        np.testing.assert_array_equal(got, want)
    # 1 + 2**-53 * (1 + 2**-52): the plain float64 sum rounds to 1.0, the FMA does not
    v = 2.0**-27 * (1 + 2.0**-52)
    assert fe.fma64(np.array([v]), 2.0**-26, 1.0)[0] == 1 + 2.0**-52
