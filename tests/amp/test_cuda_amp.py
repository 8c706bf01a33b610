"""lamina.amp._cuda_amp (``lamina.cuda.amp``): torch's deprecated spellings.

GradScaler and autocast themselves are tested in tests/amp/test_grad_scaler.py and
tests/amp/test_autocast_mode.py.
"""

from __future__ import annotations

import types

import pytest

import lamina as L
from lamina.amp import _cuda_amp


def test_cuda_amp_is_this_module():
    assert L.cuda.amp is _cuda_amp


def test_autocast_warns_and_defaults_to_float16():
    with pytest.warns(FutureWarning, match=r"torch.amp.autocast\('cuda', args...\)"):
        ac = _cuda_amp.autocast(enabled=False)
    assert ac.device == "cuda" and ac.fast_dtype == L.float16


def test_grad_scaler_warns_and_is_a_cuda_scaler():
    with pytest.warns(FutureWarning, match=r"torch.amp.GradScaler\('cuda', args...\)"):
        s = _cuda_amp.GradScaler(init_scale=8.0, enabled=False)
    assert isinstance(s, L.amp.GradScaler)
    assert s._device == "cuda"


def test_custom_fwd_and_bwd_with_and_without_arguments():
    # decorators of an autograd.Function's forward(ctx, ...) / backward(ctx, ...)
    def f(ctx, x):
        return x * 2

    ctx = types.SimpleNamespace()
    assert _cuda_amp.custom_fwd(f)(ctx, L.ones(2)).tolist() == [2.0, 2.0]
    assert ctx._fwd_used_autocast is False and ctx._dtype == L.float16
    assert _cuda_amp.custom_fwd(cast_inputs=None)(f)(ctx, L.ones(1)).tolist() == [2.0]
    assert _cuda_amp.custom_bwd(f)(ctx, L.ones(1)).tolist() == [2.0]
