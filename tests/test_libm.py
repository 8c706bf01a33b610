"""lamina._libm: the C library's float64 log/log1p/sin/cos, whatever NumPy dispatches."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import torch

import lamina
from lamina import _libm

NAMES = ["log", "log1p", "sin", "cos"]
MATH = {"log": math.log, "log1p": math.log1p, "sin": math.sin, "cos": math.cos}
MP = {"log": mpmath.log, "log1p": mpmath.log1p, "sin": mpmath.sin, "cos": mpmath.cos}


def _domain(name, n=20000, seed=0):
    """Values unlike the probe's: a different sequence, plus the random kernels' own inputs."""
    u = np.random.default_rng(seed).random(n)
    if name == "log":
        return 1.0 - u
    if name == "log1p":
        return -u
    return (2.0 * math.pi) * u


# Hard inputs: next to 1 (log's cancellation), tiny and subnormal, huge (sin/cos argument
# reduction), next to multiples of pi/2 (sin/cos results close to 0).
HARD = {
    "log": [1.0 - 2.0**-53, 1.0 - 2.0**-52, 1.0 + 2.0**-52, 0.9999999999, 1.0000000001,
            5e-324, 2.2250738585072014e-308, 1e-300, 0.5, 0.7071067811865476, 1e300,
            1.7976931348623157e308],
    "log1p": [-2.0**-53, -1e-17, -1e-10, -0.5, -0.9999999999999999, 1e-300, 5e-324,
              -1e-300, 0.25, 1e10, 1e300],
    "sin": [math.pi, 2 * math.pi, math.pi / 2, 3 * math.pi / 2, 5e-324, 1e-300, 1e-8,
            6.283185307179586, 6.283185307179585, 1e5, 1e22, 1e300, 1.7976931348623157e308],
    "cos": [math.pi, 2 * math.pi, math.pi / 2, 3 * math.pi / 2, 5e-324, 1e-300, 1e-8,
            1.5707963267948966, 1.5707963267948968, 1e5, 1e22, 1e300],
}


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("name", NAMES)
def test_chosen_strategy_reproduces_libm(name):
    assert _libm.strategy(name) in ("numpy", "numpy-strided", "per-element")
    x = _domain(name)
    got = getattr(_libm, name)(x)
    want = np.array([MATH[name](v) for v in x.tolist()])
    np.testing.assert_array_equal(_bits(got), _bits(want))
    # shape kept, and a 2-d strided input too
    x2 = x[:2000].reshape(40, 50)[:, ::2]
    np.testing.assert_array_equal(_bits(getattr(_libm, name)(x2)),
                                  _bits(np.vectorize(MATH[name])(x2)))


@pytest.mark.parametrize("name", NAMES)
def test_hard_inputs_against_correctly_rounded_reference(name):
    x = np.array(HARD[name])
    got = getattr(_libm, name)(x)
    # bit-equal to the C library ...
    np.testing.assert_array_equal(_bits(got), _bits([MATH[name](v) for v in HARD[name]]))
    # ... and within one ulp of the exact value (mpmath at 200 bits, rounded once)
    mpmath.mp.prec = 200
    for v, g in zip(HARD[name], got.tolist()):
        exact = float(MP[name](mpmath.mpf(v)))
        assert abs(g - exact) <= np.spacing(abs(exact)), (name, v, g, exact)


@pytest.mark.parametrize("name", NAMES)
def test_a_strategy_that_is_not_libm_is_refused(monkeypatch, name):
    # one ulp off on every value: the probe comparison rejects it, per-element calls remain
    ufunc, fn = _libm._FUNCS[name]
    monkeypatch.setattr(_libm, "_STRATEGIES",
                        {"numpy": lambda u, x: np.nextafter(u(x), np.inf)})
    label, impl = _libm._choose(name)
    assert label == "per-element"
    x = _domain(name, 500, 2)
    np.testing.assert_array_equal(_bits(impl(ufunc, x)), _bits([fn(v) for v in x.tolist()]))


@pytest.mark.parametrize("strategy", ["numpy", "numpy-strided", "per-element"])
def test_float64_draws_match_torch_under_every_strategy(monkeypatch, strategy):
    for name in NAMES:
        ufunc, fn = _libm._FUNCS[name]
        impl = (_libm._per_element(fn) if strategy == "per-element"
                else _libm._STRATEGIES[strategy])
        if not np.array_equal(_bits(impl(ufunc, _domain(name, 4000, 1))),
                              _bits([fn(v) for v in _domain(name, 4000, 1).tolist()])):
            pytest.skip(f"NumPy's {strategy} {name} is not libm's on this CPU (not selectable)")
        monkeypatch.setitem(_libm._chosen, name, (strategy, impl))
    for seed in (0, 3):
        torch.manual_seed(seed)
        lamina.manual_seed(seed)
        np.testing.assert_array_equal(lamina.randn(4099, dtype=lamina.float64).numpy(),
                                      torch.randn(4099, dtype=torch.float64).numpy())
        np.testing.assert_array_equal(
            lamina.empty(3000, dtype=lamina.float64).normal_(1.5, 0.25).numpy(),
            torch.empty(3000, dtype=torch.float64).normal_(1.5, 0.25).numpy())
        np.testing.assert_array_equal(
            lamina.empty(3000, dtype=lamina.float64).exponential_(0.7).numpy(),
            torch.empty(3000, dtype=torch.float64).exponential_(0.7).numpy())


def _simd_features():
    from numpy._core import _multiarray_umath as mu
    return [f for f in mu.__cpu_dispatch__ if mu.__cpu_features__.get(f)]


def test_float64_parity_with_numpy_simd_dispatch_disabled():
    """The float64 parity tests again, in a child whose NumPy dispatches no SIMD kernels.

    NumPy reads NPY_DISABLE_CPU_FEATURES at import; with every dispatch target of this CPU
    turned off it runs its baseline loops, another code path than the parent's on any CPU
    that has extensions beyond the baseline.
    """
    feats = _simd_features()
    if not feats:
        pytest.skip("NumPy dispatches no SIMD target beyond its baseline on this CPU")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(feats))
    env["PYTHONPATH"] = os.path.dirname(here) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
           os.path.join(here, "random"), os.path.join(here, "test_libm.py"),
           "-k", "(float64 or randn or normal or exponential or libm or strategy or hard) "
                 "and not simd_dispatch_disabled"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout
