"""lamina.backends.cuda: ``matmul`` flags and the attention-kernel switches, as torch."""

from __future__ import annotations

import sys

import pytest
import torch

import lamina
from lamina.backends import cuda as bcuda

MATMUL = ["allow_tf32", "allow_fp16_reduced_precision_reduction",
          "allow_fp16_reduced_precision_reduction_split_k",
          "allow_bf16_reduced_precision_reduction",
          "allow_bf16_reduced_precision_reduction_split_k", "allow_fp16_accumulation",
          "fp32_precision"]


@pytest.fixture
def matmul(monkeypatch):
    """A fresh flag object in place of the shared one, restored after the test."""
    m = bcuda.cuBLASModule()
    monkeypatch.setattr(bcuda, "matmul", m)
    return m


@pytest.mark.parametrize("name", MATMUL)
def test_matmul_defaults_match_torch(name, matmul):
    assert getattr(matmul, name) == getattr(torch.backends.cuda.matmul, name)


def test_matmul_flags_are_stored(matmul):
    matmul.allow_tf32 = True
    assert lamina.backends.cuda.matmul.allow_tf32 is True
    matmul.allow_fp16_reduced_precision_reduction = (False, False)
    assert matmul.allow_fp16_reduced_precision_reduction is False
    assert matmul.allow_fp16_reduced_precision_reduction_split_k is False
    matmul.allow_bf16_reduced_precision_reduction = False
    assert matmul.allow_bf16_reduced_precision_reduction_split_k is True
    matmul.fp32_precision = "tf32"
    assert matmul.fp32_precision == "tf32"


def test_matmul_unknown_and_bad_values_raise_like_torch(matmul):
    for lib_m in (matmul, torch.backends.cuda.matmul):
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            lib_m.foo = 1
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            lib_m.foo
        with pytest.raises(TypeError, match="expects a bool or a tuple/list of bools"):
            lib_m.allow_fp16_reduced_precision_reduction = 1
        with pytest.raises(TypeError, match="at most two boolean arguments"):
            lib_m.allow_bf16_reduced_precision_reduction = (True, True, True)


def test_sdp_switches(monkeypatch):
    monkeypatch.setattr(bcuda, "_SDP", dict(bcuda._SDP))
    for kind in ("flash", "mem_efficient", "math", "cudnn"):
        assert getattr(bcuda, f"{kind}_sdp_enabled")() is \
            getattr(torch.backends.cuda, f"{kind}_sdp_enabled")()
        getattr(bcuda, f"enable_{kind}_sdp")(False)
        assert getattr(bcuda, f"{kind}_sdp_enabled")() is False
    with pytest.warns(FutureWarning), bcuda.sdp_kernel(enable_math=True):
        assert bcuda.math_sdp_enabled() and bcuda.flash_sdp_enabled()
    assert not bcuda.math_sdp_enabled()


def test_is_built_follows_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy fails
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert bcuda.is_built() is False
    monkeypatch.setitem(sys.modules, "cupy", object())
    assert bcuda.is_built() is True
