"""lamina.amp.autocast: a working context manager / decorator that never casts.

Disabled autocasts and the ones torch disables itself are compared with torch; an enabled one
(which torch would honour) warns once and computes in full precision.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina.amp import autocast_mode
from tests.oracle_helpers import npy


@pytest.fixture
def fresh_warning(monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned", [])


def _no_warnings():
    w = warnings.catch_warnings(record=True)
    rec = w.__enter__()
    warnings.simplefilter("always")
    return w, rec


def test_disabled_is_a_silent_no_op():
    x = lamina.tensor([[1.0, 2.0]])
    for ctx in (lamina.amp.autocast(device_type="cpu", enabled=False),
                lamina.autocast("cpu", enabled=False),
                lamina.autocast("cpu", dtype=lamina.float16, enabled=False)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with ctx as c:
                y = x @ x.T
                assert not lamina.is_autocast_enabled("cpu")
        assert c is ctx
        assert y.dtype == lamina.float32 and y.item() == 5.0


def test_names_and_defaults_match_torch():
    assert lamina.autocast is lamina.amp.autocast
    for dev in ("cpu", "cuda"):
        assert str(lamina.get_autocast_dtype(dev)).split(".")[-1] == \
            str(torch.get_autocast_dtype(dev)).split(".")[-1]
        assert lamina.is_autocast_enabled(dev) is torch.is_autocast_enabled(dev) is False
        assert lamina.amp.is_autocast_available(dev)
    assert lamina.is_autocast_enabled() is torch.is_autocast_enabled() is False


def test_enabled_cpu_autocast_warns_once_and_computes_in_float32(fresh_warning):
    x = lamina.tensor(np.array([[1.0, 1e-3]], np.float32))
    with pytest.warns(UserWarning, match="does not implement autocast"):
        with lamina.autocast("cpu", dtype=lamina.bfloat16):
            y = x @ x.T
            assert not lamina.is_autocast_enabled("cpu")
            assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16
    assert y.dtype == lamina.float32
    np.testing.assert_allclose(npy(y), [[1.000001]], rtol=1e-7)  # not rounded to bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process
        with lamina.autocast("cpu"):
            pass


def test_nesting_restores_the_dtype(fresh_warning):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lamina.autocast("cpu", dtype=lamina.float16):
            assert lamina.get_autocast_dtype("cpu") is lamina.float16
            with lamina.autocast("cpu", enabled=False):
                # as torch: dtype=None takes the enclosing autocast's dtype
                assert lamina.get_autocast_dtype("cpu") is lamina.float16
            with lamina.autocast("cpu", dtype=lamina.bfloat16, enabled=False):
                assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16
            assert lamina.get_autocast_dtype("cpu") is lamina.float16
    assert lamina.get_autocast_dtype("cpu") is lamina.bfloat16


def test_decorator():
    @lamina.autocast("cpu", enabled=False)
    def f(a):
        """doc"""
        return a * 2

    assert f(lamina.tensor(2.0)).item() == 4.0 and f.__doc__ == "doc"
    for lib in (lamina, torch):
        with pytest.raises(TypeError, match="requires a callable, but got int"):
            lib.autocast("cpu", enabled=False)(3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the oracle is a CPU-only torch")
def test_torch_disabling_cases_warn_alike(monkeypatch):
    monkeypatch.setattr(lamina.cuda, "is_available", lambda: False)
    cases = [lambda m: m.autocast("cuda"),
             lambda m: m.amp.autocast(device_type="cuda", dtype=m.float16),
             lambda m: m.autocast("cpu", dtype=m.float32),
             lambda m: m.cuda.amp.autocast(),
             lambda m: m.cuda.amp.autocast(enabled=False)]
    for case in cases:
        got = []
        for lib in (lamina, torch):
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                with case(lib):
                    enabled = lib.is_autocast_enabled("cuda") or lib.is_autocast_enabled("cpu")
            got.append((enabled, [(w.category, str(w.message).split(".")[0]) for w in rec]))
        assert got[0] == got[1]


def test_bad_device_types():
    for lib in (lamina, torch):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            lib.autocast(1)
        with pytest.raises(RuntimeError):
            lib.autocast("xyz")


def test_custom_fwd_bwd_in_a_function():
    class Double(lamina.autograd.Function):
        @staticmethod
        @lamina.amp.custom_fwd(device_type="cpu", cast_inputs=lamina.float16)
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @lamina.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            assert not lamina.is_autocast_enabled("cpu")
            return g * 2

    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = Double.apply(x)
    assert y.dtype == lamina.float32  # autocast is off: cast_inputs does not apply (as torch)
    y.sum().backward()
    assert npy(x.grad).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="device_type"):
        lamina.amp.custom_fwd(device_type=None)
