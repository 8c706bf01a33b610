"""lamina.device against torch.device, and the cuda namespace without a GPU."""

from __future__ import annotations

import pickle

import pytest
from scenario import assert_same

import lamina
from lamina._device import backend

SCENARIOS = {
    "cpu": "d = m.device('cpu'); out = (d, str(d), d.type, d.index)",
    "cuda_index": "d = m.device('cuda:1'); out = (d, str(d), d.type, d.index)",
    "cuda_plain": "d = m.device('cuda'); out = (d, str(d), d.index)",
    "type_and_index": "out = m.device('cuda', 2)",
    "equality": """
out = (m.device('cpu') == m.device('cpu'), m.device('cuda:0') == m.device('cuda:1'),
       hash(m.device('cpu')) == hash(m.device('cpu')))""",
    "bad_index": "m.device('cuda:x')",
    "index_twice": "m.device('cuda:0', 1)",
    "tensor_device": "out = (m.ones(2).device, m.ones(2, device='cpu').device, m.ones(1).is_cpu)",
    "meta": "out = m.device('meta')",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_device_matches_torch(name):
    assert_same(SCENARIOS[name])


@pytest.mark.parametrize("bad,match", [("tpu", "Expected one of cpu, cuda, meta"),
                                       (("cuda", -1), "must not be negative")])
def test_bad_devices(bad, match):
    with pytest.raises(RuntimeError, match=match):
        lamina.device(*bad) if isinstance(bad, tuple) else lamina.device(bad)


def test_lamina_extras():
    # lamina compares devices with their strings and reads an int as a cuda index
    assert lamina.device("cpu") == "cpu"
    assert lamina.device(0) == lamina.device("cuda:0")


def test_device_is_cached_and_picklable():
    assert lamina.device("cpu") is lamina.device("cpu")
    d = lamina.device("cuda:3")
    assert pickle.loads(pickle.dumps(d)) == d
    assert lamina.device(d) is d


def test_cpu_backend_is_numpy():
    import numpy

    b = backend(lamina.device("cpu"))
    assert b.xp is numpy and b.name == "cpu"
    assert lamina.ones(2)._data.__class__ is numpy.ndarray


def test_cuda_namespace_without_gpu():
    if lamina.cuda.is_available():  # pragma: no cover - only on a GPU machine
        pytest.skip("a GPU is present")
    assert lamina.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        lamina.cuda.synchronize()
    lamina.cuda.manual_seed(0)  # a no-op without a GPU, as in torch


def test_meta_tensors_refused_clearly():
    with pytest.raises(RuntimeError, match="meta"):
        lamina.ones(2).to("meta")


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, lamina; bad = [m for m in ('cupy', 'torch', 'scipy') if m in "
            "sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
