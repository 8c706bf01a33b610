"""ATen's CPU random kernels, draw for draw, on the MT19937 stream of ``_mt19937``.

Every distribution consumes the stream exactly as ATen's CPU kernels do (one 32-bit draw per
float32 uniform, two per float64 uniform, high word first, ...), so a *sequence* of calls
(``randn(2, 3)``, then ``rand(5)``, then the ``uniform_`` of each new layer's weight) gives
torch's numbers; the float arithmetic is ``_float_emulation``'s. The arguments arrive checked
(by ``Generator``).

Verified bit-identical against torch 2.13 on x86-64 with AVX2 or AVX-512 (tests/random/):

* ``rand``/``uniform_(a, b)`` for float32, float64 and float16 (ATen's fused
  ``x * (to - from) + from``, and its mapping of a value rounded up to ``to`` back to ``from``);
* ``randn``/``normal_(mean, std)`` for float32, float64 and float16, both the scalar path
  (fewer than 16 elements, Box-Muller pairs whose second sample is cached across calls) and
  the 16-wide path (float32: an emulation of ATen's AVX2 ``log256_ps``/``sincos256_ps`` with
  the FMAs GCC contracts, checked against torch for all 2**24 possible uniforms);
* ``randint``/``random_(low, high)`` (random64() from a range of 2**28 on, ATen's bound
  narrowing for floating dtypes), ``random_()``, ``randperm`` (n < 214748364),
  ``bernoulli(p_tensor)`` (24-bit draws for float32 p, 53-bit for float64 p), ``bernoulli_(p)``
  and dropout masks, ``exponential_``, ``multinomial`` with and without replacement.

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
  strided order, while lamina's in-place methods fill a contiguous block.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _libm
from . import _float_emulation as fe

# randperm switches to a 64-bit inside-out shuffle from this n on (uint32 max / 20 in ATen).
RANDPERM_SMALL = 0xFFFFFFFF // 20
_RANDPERM_LOOP_MAX = 512  # below this a Python loop of swaps beats the vectorized version
_UCHUNK = 1 << 16  # draws per block of uniform_'s float32 path
_U64 = 1 << 64

_f32 = np.float32
_f64 = np.float64
_u64 = np.uint64
_M24 = np.uint64(0xFFFFFF)


def numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


# --------------------------------------------------------------------------------------------
# uniform


def uniform(mt, shape, low: float, high: float, dtype, out=None):
    """``torch.rand`` / ``Tensor.uniform_(low, high)``: an array of ``shape``.

    ``out`` (optional): an array of ``shape`` and ``dtype`` to fill instead of allocating one
    (a C-contiguous float32 one is filled in place); it is returned.
    """
    n = numel(shape)
    if dtype == _f32:
        direct = (out is not None and out.flags.c_contiguous and out.dtype == _f32
                  and out.shape == shape)
        x = uniform_f32(mt, n, _f32(low), _f32(high), out.reshape(-1) if direct else None)
        if direct:
            return out
        x = x.reshape(shape)
    else:
        if dtype == _f64:
            x = fe.uniform53(mt.raw64(n))
            if not (low == 0 and high == 1):
                x = fe.affine64(x, low, high - low)
        else:  # half: sampled in float (opmath), then rounded
            x = uniform_f32(mt, n, _f32(low), _f32(high)).astype(dtype)
        x = fe.to_below(x, dtype.type(low), dtype.type(high)).reshape(shape)
    if out is None:
        return x
    out[...] = x
    return out


def uniform_f32(mt, n: int, lo: np.float32, hi: np.float32, out=None) -> np.ndarray:
    """``n`` float32 uniforms in [lo, hi), into ``out`` (a flat float32 array) if given.

    ATen computes ``x * (to - from) + from`` with x = k / 2**24 (k: the low 24 bits of one
    draw), contracted to one FMA: the exact value rounded once. The paths below produce that
    same rounding.
    """
    d = hi - lo
    s = float(d) * 2.0**-24
    if math.isfinite(s) and float(_f32(s)) == s and (lo == 0 or lo == -hi):
        # k * d * 2**-24 + lo == (k - c) * s with c = 0 or 2**23 (symmetric bounds):
        # k - c and s are exact float32 values, and one float32 multiply rounds their
        # exact product once, as the FMA does. Neither path can round up to `hi`.
        c, s32, generic = (_f32(0) if lo == 0 else _f32(1 << 23)), _f32(s), False
    elif fe.fma_sum_exact(d, lo):
        generic = True  # the float64 sum is exact; its cast to float32 is the one rounding
    else:
        x = fe.uniform24(mt.raw(n))
        return fe.to_below(fe.fma32(x, d, lo), lo, hi, out)
    if out is None:
        out = np.empty(n, dtype=_f32)
    if not generic and n <= _UCHUNK:
        # one block (every layer of ordinary size): no block generator on the way
        r = mt.raw(n)
        r &= _M24
        np.copyto(out, r.view(np.int64), casting="unsafe")  # k < 2**24: exact
        if c:
            out -= c
        out *= s32
        return out
    # Blocks of draws: the 64-bit raw words and the temporaries stay in cache (one pass over
    # memory for the output instead of several over 8-byte arrays).
    buf = None if not generic else np.empty(min(n, _UCHUNK), dtype=_f64)
    i = 0
    for r in mt.raw_blocks(n, _UCHUNK):
        r &= _M24
        o = out[i:i + r.size]
        i += r.size
        if generic:
            b = buf[:r.size]
            np.multiply(r, s, out=b)  # k * d * 2**-24 is exact in float64
            b += float(lo)
            o[...] = b
            fe.to_below(o, lo, hi, o)
        else:
            np.copyto(o, r.view(np.int64), casting="unsafe")  # k < 2**24: exact
            if c:
                o -= c
            o *= s32
    return out


# --------------------------------------------------------------------------------------------
# normal


def normal(mt, shape, mean: float, std: float, dtype):
    """``torch.randn`` / ``Tensor.normal_(mean, std)``: a new array of ``shape``."""
    n = numel(shape)
    if n < 16:
        return fe.cast(normal_scalar(mt, n, mean, std), dtype).reshape(shape)
    full = n - n % 16
    if dtype == np.float16:
        # Half: each block of 16 float uniforms is transformed in a float buffer and rounded;
        # the partial block is not drawn, only the recomputed last 16.
        u = fe.uniform24(mt.raw(full + (16 if full != n else 0))).reshape(-1, 16)
        res = fe.normal_rows(u, fe.box_muller16_f32, mean, std).reshape(-1)
        out = np.empty(n, dtype=np.float16)
        out[:full] = res[:full]
        if full != n:
            out[n - 16:] = res[full:]
        return out.reshape(shape)
    # float/double: all n uniforms are drawn into the output first (the partial block's are
    # then overwritten), 16 more are drawn for the recomputed last 16 outputs.
    m = n + (16 if full != n else 0)
    if dtype == _f64:
        u, fn = fe.uniform53(mt.raw64(m)), fe.box_muller16_f64
    else:
        u, fn = fe.uniform24(mt.raw(m)), fe.box_muller16_f32
    out = np.empty(n, dtype=u.dtype)
    out[:full] = fe.normal_rows(u[:full].reshape(-1, 16), fn, mean, std).reshape(-1)
    if full != n:
        out[n - 16:] = fn(u[n:].reshape(1, 16), mean, std).reshape(-1)
    return out.astype(dtype, copy=False).reshape(shape)


def normal_scalar(mt, n: int, mean: float, std: float) -> np.ndarray:
    """ATen's normal_distribution<double> n times: Box-Muller pairs, second one cached."""
    vals = []
    cached = mt.next_double
    if n and cached is not None:
        vals.append(cached)
        mt.next_double = cached = None
    pairs = (n - len(vals) + 1) // 2
    if pairs:
        u = fe.uniform53(mt.raw64(2 * pairs)).tolist()
        log1p, sqrt, sin, cos = math.log1p, math.sqrt, math.sin, math.cos
        for i in range(pairs):
            r = sqrt(-2.0 * log1p(-u[2 * i + 1]))
            theta = 2.0 * math.pi * u[2 * i]
            vals.append(r * cos(theta))
            vals.append(r * sin(theta))
        if len(vals) > n:
            mt.next_double = vals.pop()
    return fe.affine64(np.array(vals, dtype=_f64), mean, std)


# --------------------------------------------------------------------------------------------
# integers and permutations


def randint(mt, low: int, high: int, shape, dtype):
    """``torch.randint(low, high, shape)`` / ``Tensor.random_(low, high)``."""
    n = numel(shape)
    rng = high - low
    if rng >= _U64:  # [-2**63, 2**63): the full 64-bit range, random64 as is
        v = mt.raw64(n).view(np.int64)
    else:
        # ATen (outside fbcode) takes random64() from a range of 2**28 on, to keep the modulo
        # bias small, for every dtype
        v = mt.raw64(n) if rng >= (1 << 28) else mt.raw(n)
        v = (v % _u64(rng)).astype(np.int64)
        v += np.int64(low)  # wraps like ATen's uint64 sum cast to int64
    return fe.cast(v, dtype).reshape(shape)


def random(mt, shape, dtype):
    """``Tensor.random_()`` without bounds: [0, 2**mantissa] for floats, [0, max] else."""
    n = numel(shape)
    if dtype == np.bool_:
        return (mt.raw(n) & np.uint64(1)).astype(np.bool_).reshape(shape)
    if dtype == _f64:
        v, mod = mt.raw64(n), (1 << 53) + 1
    elif dtype == np.int64:
        v, mod = mt.raw64(n), 1 << 63
    elif dtype.kind == "f":
        v, mod = mt.raw(n), (1 << int(np.finfo(dtype).nmant + 1)) + 1
    else:
        v, mod = mt.raw(n), int(np.iinfo(dtype).max) + 1
    return (v % _u64(mod)).astype(dtype).reshape(shape)


def randperm(mt, n: int, dtype):
    """``torch.randperm(n)``: ATen's Fisher-Yates on the 32-bit stream."""
    if n < RANDPERM_SMALL:
        if n < 2:
            return np.arange(n, dtype=dtype)
        # step i swaps positions i and i + z[i]
        z = (mt.raw(n - 1) % np.arange(n, 1, -1, dtype=_u64)).astype(np.int64)
        if n <= _RANDPERM_LOOP_MAX:
            perm = list(range(n))
            for i, zi in enumerate(z.tolist()):
                j = i + zi
                perm[i], perm[j] = perm[j], perm[i]
            return np.array(perm, dtype=dtype)
        return apply_swaps(z).astype(dtype, copy=False)
    # ATen's inside-out shuffle with random64() for n >= uint32 max / 20 (slow here)
    z = mt.raw64(n) % (np.arange(n, dtype=_u64) + _u64(1))
    perm = list(range(n))
    for i, zi in enumerate(z.tolist()):
        perm[i] = perm[zi]
        perm[zi] = i
    return np.array(perm, dtype=dtype)


def apply_swaps(z: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# bernoulli, exponential, multinomial


def bernoulli(mt, p: np.ndarray, dtype):
    """``torch.bernoulli(p)``: a float64 ``p`` is compared with a 53-bit uniform (two draws),
    any other floating ``p`` with a 24-bit float32 uniform (one draw)."""
    n = p.size
    if p.dtype == _f64:
        u = fe.uniform53(mt.raw64(n))
    else:
        u = fe.uniform24(mt.raw(n))
        p = p.astype(_f32, copy=False)
    return (u < p.reshape(-1)).astype(dtype).reshape(p.shape)


def bernoulli_shape(mt, shape, p: float, dtype):
    """``Tensor.bernoulli_(p)`` with a float ``p`` (dropout masks): 53-bit uniforms < p."""
    return (fe.uniform53(mt.raw64(numel(shape))) < p).astype(dtype).reshape(shape)


def exponential(mt, shape, lambd: float, dtype):
    """``Tensor.exponential_(lambd)``: -log1p(-u) / lambd in double, then cast."""
    u = fe.uniform53(mt.raw64(numel(shape)))
    return fe.cast(-1.0 / lambd * _libm.log1p(-u), dtype).reshape(shape)


def multinomial(mt, probs: np.ndarray, num_samples: int, replacement: bool):
    """``torch.multinomial(probs, num_samples, replacement)``: an int64 index array.

    Without replacement (or for a single sample) ATen draws ``q ~ Exp(1)`` like ``probs`` and
    takes the top-k of ``probs / q``; with replacement it inverts the normalized cumulative
    sum with one 53-bit uniform per sample, row after row.
    """
    if not replacement or num_samples == 1:
        q = probs / exponential(mt, probs.shape, 1.0, probs.dtype)
        if num_samples == 1:
            return np.argmax(q, axis=-1, keepdims=True).astype(np.int64)
        order = np.argsort(-q, axis=-1, kind="stable")
        return np.ascontiguousarray(order[..., :num_samples]).astype(np.int64)
    n_cat = probs.shape[-1]
    rows = probs.reshape(-1, n_cat)
    acc = _f64 if probs.dtype == _f64 else _f32
    cum = np.cumsum(rows.astype(acc), axis=-1)  # sequential, like ATen's loop
    cum /= cum[:, -1:]
    cum[:, -1] = 1
    u = fe.uniform53(mt.raw64(rows.shape[0] * num_samples)).reshape(rows.shape[0], num_samples)
    out = np.empty(u.shape, dtype=np.int64)
    for i in range(rows.shape[0]):
        out[i] = np.searchsorted(cum[i].astype(_f64), u[i], side="left")
    return out.reshape(probs.shape[:-1] + (num_samples,))
