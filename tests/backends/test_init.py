"""lamina.backends: the modules programs query (mps, mkldnn, openmp, mkl) answer honestly."""

from __future__ import annotations

import lamina


def test_backends_are_attributes_like_torch():
    import torch

    for name in ("cudnn", "cuda", "mps", "mkldnn", "openmp", "mkl"):
        assert hasattr(torch.backends, name)
        assert getattr(lamina.backends, name).__name__ == f"lamina.backends.{name}"


def test_hardware_lamina_does_not_use_is_not_available():
    b = lamina.backends
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.mkldnn.is_available() is False
    assert b.openmp.is_available() is False
    assert b.mkl.is_available() is False
    assert b.mkldnn.enabled is True  # torch's flag default, stored


def test_the_usual_preamble_runs():
    # lines that public training scripts run on any machine
    lamina.backends.cudnn.benchmark = lamina.backends.cudnn.benchmark
    lamina.backends.cuda.matmul.allow_tf32 = lamina.backends.cuda.matmul.allow_tf32
    lamina.backends.cudnn.allow_tf32 = lamina.backends.cudnn.allow_tf32
    device = "mps" if lamina.backends.mps.is_available() else "cpu"
    assert device == "cpu"
