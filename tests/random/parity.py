"""Helpers of the tests of lamina.random: generators seeded alike in lamina and torch, a
bit-for-bit comparison, and a CuPy stand-in for the cuda generators (imported as
``tests.random.parity``; tests/random has no __init__.py, since a package of that name would
shadow Python's ``random`` under pytest's rootdir imports)."""

from __future__ import annotations

import types

import numpy as np
import torch

from lamina.random import Generator

SEEDS = [0, 42, 2**40 + 3, -7]
SHAPES = [(), (1,), (3,), (15,), (16,), (17,), (3, 20), (2, 3, 7), (1000,), (4099,)]
FLOATS = [(np.float32, torch.float32), (np.float64, torch.float64), (np.float16, torch.float16)]


def _intel_mkl_bernoulli() -> bool:
    """torch's bernoulli_(float) uses MKL's stream instead of MT19937 on Intel CPUs."""
    try:
        with open("/proc/cpuinfo") as f:
            return "GenuineIntel" in f.read(4096) and torch.backends.mkl.is_available()
    except OSError:
        return False


INTEL_MKL = _intel_mkl_bernoulli()


def gens(seed):
    return Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def same(mine, theirs):
    """Exact equality, bit for bit (so -0.0 vs 0.0 counts), with dtype and shape."""
    t = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert isinstance(mine, np.ndarray)
    assert mine.dtype == t.dtype, (mine.dtype, t.dtype)
    assert mine.shape == t.shape, (mine.shape, t.shape)
    a, b = np.ascontiguousarray(mine).reshape(-1), np.ascontiguousarray(t).reshape(-1)
    if a.size == 0:
        return
    eq = (a.view(np.uint8).reshape(a.size, -1) == b.view(np.uint8).reshape(b.size, -1)).all(1)
    i = int(np.argmin(eq)) if a.size else 0
    assert eq.all(), f"{(~eq).sum()} of {a.size} differ; first at {i}: {a[i]!r} vs {b[i]!r}"


def in_sync(lg, tg):
    """Both generators must have consumed the same number of draws."""
    same(lg._uniform((5,), 0.0, 1.0, np.float32), torch.rand(5, generator=tg))


# ------------------------------------------------------------------------------ fake CuPy


class FakeRandomState:
    """The slice of cupy.random.RandomState that lamina uses, on top of NumPy."""

    def __init__(self, seed=None, method=None):
        self.method = method
        self.seed(seed)

    def seed(self, seed=None):
        assert seed is not None and 0 <= seed < 2**63
        self._rs = np.random.RandomState(seed % 2**32)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return self._rs.uniform(low, high, size).astype(dtype)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return self._rs.normal(loc, scale, size).astype(dtype)

    def randint(self, low, high=None, size=None, dtype="l"):
        return self._rs.randint(low, high, size, dtype=dtype)

    def permutation(self, num):
        return self._rs.permutation(num)

    def random_sample(self, size=None, dtype=float):
        return self._rs.random_sample(size).astype(dtype)

    def standard_exponential(self, size=None, dtype="d"):
        return self._rs.standard_exponential(size).astype(dtype)


class _FakeDevice:
    def __init__(self, index):
        self.index = index

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def install_fake_cupy(monkeypatch):
    """Make lamina's cupy backend hand out a NumPy-backed stand-in (for one test)."""
    cp = types.ModuleType("cupy")
    cp.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("_")})
    cp.random = types.SimpleNamespace(RandomState=FakeRandomState)
    cp.cuda = types.SimpleNamespace(
        Device=_FakeDevice, curand=types.SimpleNamespace(CURAND_RNG_PSEUDO_PHILOX4_32_10=5))
    backend = types.SimpleNamespace(xp=cp)
    from lamina._backends import cupy_backend

    monkeypatch.setattr(cupy_backend, "get", lambda index: backend)
    return cp
