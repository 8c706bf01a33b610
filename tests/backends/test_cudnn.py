"""lamina.backends.cudnn: torch's flags and defaults (CPU-only torch is the oracle)."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.backends import cudnn

FLAGS = ["enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit",
         "fp32_precision"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the oracle is a CPU-only torch")
@pytest.mark.parametrize("name", FLAGS)
def test_defaults_match_cpu_only_torch(name):
    assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name)


def test_queries_say_no_cudnn():
    assert lamina.backends.cudnn is cudnn
    assert cudnn.is_available() is False
    assert cudnn.version() is None
    assert cudnn.is_acceptable(lamina.zeros(2)) is False


def test_flags_are_stored(monkeypatch):
    for name, value in [("benchmark", True), ("deterministic", True), ("enabled", False),
                        ("allow_tf32", False)]:
        monkeypatch.setattr(cudnn, name, value)
        assert getattr(lamina.backends.cudnn, name) is value


def test_flags_context_sets_and_restores():
    before = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32)
    with cudnn.flags(enabled=True, benchmark=True, deterministic=True, allow_tf32=False):
        assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == \
            (True, True, True, False)
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == before
    with pytest.raises(KeyError), cudnn.flags(benchmark=True):
        raise KeyError("inside")
    assert cudnn.benchmark is before[1]


def test_results_do_not_depend_on_the_flags(monkeypatch):
    x = lamina.arange(24.0).reshape(1, 2, 3, 4)
    w = lamina.ones(3, 2, 2, 2)
    ref = lamina.nn.functional.conv2d(x, w)
    monkeypatch.setattr(cudnn, "benchmark", True)
    monkeypatch.setattr(cudnn, "deterministic", True)
    assert lamina.equal(lamina.nn.functional.conv2d(x, w), ref)
