"""The cuda generators' engine: CuPy's Philox generator, reseeded at each call.

Each call seeds CuPy's ``RandomState`` (curand's Philox4x32-10) from (seed, call counter), so
the state is two integers, like torch's cuda state (seed and offset), and ``get_state`` /
``set_state`` are exact. The numbers make no attempt at parity with torch's CUDA generator;
each distribution is statistically the one its name says.
"""

from __future__ import annotations

import numpy as np

_U64 = 1 << 64
_f32 = np.float32
_f64 = np.float64


class CudaEngine:
    """The generator of one GPU: CuPy's Philox ``RandomState``, seeded at each call from
    (seed, call counter)."""

    __slots__ = ("index", "seed", "counter", "_rs", "_dev", "xp")

    def __init__(self, index, seed: int):
        self.index = 0 if index is None else index
        self._rs = None
        self._dev = None
        self.xp = None
        self.manual_seed(seed)

    def manual_seed(self, seed: int, counter: int = 0) -> None:
        self.seed = seed
        self.counter = counter

    def state_bytes(self) -> np.ndarray:
        """The state: 16 bytes, the seed and the call counter (little-endian uint64)."""
        return np.array([self.seed, self.counter], dtype="<u8").view(np.uint8)

    def load_state_bytes(self, arr: np.ndarray) -> None:
        if arr.size != 16:
            raise RuntimeError(f"Generator.set_state: a cuda state has 16 bytes; expected "
                               f"16, got {arr.size}")
        seed, counter = (int(v) for v in arr.view("<u8"))
        self.manual_seed(seed, counter)

    def ensure(self):
        """Import CuPy and create the RandomState on first use; returns the array module."""
        if self._rs is None:
            from .._backends.cupy_backend import get

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
