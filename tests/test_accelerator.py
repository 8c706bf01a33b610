"""lamina.accelerator against torch.accelerator.

On a machine without CuPy lamina must answer as the installed CPU-only torch does; the CUDA
paths run on the fake CuPy of tests/conftest.py (2 "GPUs", or 0: CuPy installed, no GPU).
"""

from __future__ import annotations

import sys
import warnings

import pytest
import torch
from conftest import _reset_lamina_cuda_state, make_fake_cupy

import lamina
from lamina import accelerator as acc


@pytest.fixture
def no_cupy(monkeypatch):
    """CuPy absent, as in a CPU-only install (torch's CPU-only build is the oracle)."""
    monkeypatch.setattr(acc, "_built", lambda: False)
    monkeypatch.setattr(lamina.cuda, "_cupy", lambda: None)


@pytest.fixture
def cupy_no_gpu(monkeypatch):
    _reset_lamina_cuda_state()
    monkeypatch.setitem(sys.modules, "cupy", make_fake_cupy(0))
    yield
    _reset_lamina_cuda_state()


def _outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn()
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return type(e).__name__, str(e)
    return "ok", r


CPU_ONLY = {
    "is_available": lambda m: m.accelerator.is_available(),
    "current_accelerator": lambda m: m.accelerator.current_accelerator(),
    "current_accelerator_checked": lambda m: m.accelerator.current_accelerator(True),
    "device_count": lambda m: m.accelerator.device_count(),
    "current_device_index": lambda m: m.accelerator.current_device_index(),
    "current_device_idx": lambda m: m.accelerator.current_device_idx(),
    "set_device_index_0": lambda m: m.accelerator.set_device_index(0),
    "set_device_index_negative": lambda m: m.accelerator.set_device_index(-1),
    "set_device_index_str": lambda m: m.accelerator.set_device_index("cuda:0"),
    "set_device_index_cpu": lambda m: m.accelerator.set_device_index(m.device("cpu")),
    "synchronize": lambda m: m.accelerator.synchronize(),
    "synchronize_0": lambda m: m.accelerator.synchronize(0),
    "synchronize_cpu": lambda m: m.accelerator.synchronize("cpu"),
    "empty_cache": lambda m: m.accelerator.empty_cache(),
    "memory_allocated": lambda m: m.accelerator.memory_allocated(),
    "memory_reserved": lambda m: m.accelerator.memory_reserved(),
    "device_index_none": lambda m: m.accelerator.device_index(None).__enter__(),
    "device_index_0": lambda m: m.accelerator.device_index(0).__enter__(),
}


@pytest.mark.skipif(torch.accelerator.current_accelerator() is not None,
                    reason="the oracle is a CPU-only torch")
@pytest.mark.parametrize("name", list(CPU_ONLY))
def test_without_accelerator_matches_cpu_only_torch(name, no_cupy):
    assert _outcome(lambda: CPU_ONLY[name](lamina)) == _outcome(lambda: CPU_ONLY[name](torch))


def test_official_examples_cpu_path(no_cupy):
    # the line every current official PyTorch example starts with
    device = (lamina.accelerator.current_accelerator().type
              if lamina.accelerator.is_available() else "cpu")
    assert device == "cpu"
    assert lamina.zeros(2, device=device).device == lamina.device("cpu")


def test_deprecated_spellings_warn(fake_cupy):
    with pytest.warns(FutureWarning, match="current_device_index"):
        assert acc.current_device_idx() == 0
    with pytest.warns(FutureWarning, match="set_device_index"):
        acc.set_device_idx(1)
    assert acc.current_device_index() == 1
    acc.set_device_index(0)


def test_with_gpus(fake_cupy):
    assert acc.is_available() and acc.device_count() == 2
    assert acc.current_accelerator() == lamina.device("cuda")
    assert acc.current_accelerator().index is None
    assert acc.current_accelerator(check_available=True) == lamina.device("cuda")
    assert acc.current_device_index() == 0
    acc.set_device_index("cuda:1")
    assert acc.current_device_index() == 1 == lamina.cuda.current_device()
    acc.set_device_index(lamina.device("cuda", 0))
    assert acc.current_device_index() == 0
    acc.set_device_index(-1)  # a negative index does nothing
    assert acc.current_device_index() == 0
    acc.synchronize()
    acc.synchronize(1)
    acc.synchronize("cuda:1")
    with acc.device_index(1):
        assert acc.current_device_index() == 1
        assert lamina.zeros(1, device="cuda").device == lamina.device("cuda:1")
    assert acc.current_device_index() == 0
    with acc.device_index(None):
        assert acc.current_device_index() == 0
    assert acc.memory_allocated() == 512 and acc.memory_reserved(1) == 1024
    acc.empty_cache()


def test_with_gpus_bad_devices(fake_cupy):
    with pytest.raises(ValueError, match="cpu doesn't match the current accelerator"):
        acc.set_device_index("cpu")
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index"):
        acc.set_device_index("cuda")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        acc.set_device_index(2)
    with pytest.raises(ValueError, match="doesn't match"):
        acc.synchronize("cpu")


def test_cupy_without_gpu_is_a_cuda_build_without_devices(cupy_no_gpu):
    # like a CUDA build of torch on a machine with no GPU
    assert acc.current_accelerator() == lamina.device("cuda")
    assert acc.current_accelerator(check_available=True) is None
    assert not acc.is_available() and acc.device_count() == 0
    with pytest.raises(RuntimeError, match="none is available"):
        acc.current_device_index()
    with pytest.raises(RuntimeError, match="none is available"):
        acc.synchronize()


def test_namespace():
    assert lamina.accelerator is acc
    assert set(acc.__all__) <= set(torch.accelerator.__all__)
