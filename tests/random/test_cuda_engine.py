"""lamina/random/_cuda_engine.py: cuda generators through the CuPy API (a NumPy stand-in for
CuPy), their 16-byte state, and no CuPy import before the first draw."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from lamina.random import Generator
from tests.random.parity import install_fake_cupy

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def fake_cupy(monkeypatch):
    return install_fake_cupy(monkeypatch)


def test_cuda_generator_needs_no_cupy_until_it_draws():
    code = ("import sys, lamina.random as r; g = r.Generator('cuda:1').manual_seed(3); "
            "assert str(g.device) == 'cuda:1' and g.get_state().numpy().size == 16; "
            "print('cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_cuda_generator_through_cupy_api(fake_cupy):
    fresh = Generator("cuda:0")  # multinomial as the very first call must set CuPy up too
    assert fresh._multinomial(np.array([0.0, 1.0], np.float32), 1).tolist() == [1]
    g = Generator("cuda:0").manual_seed(17)
    st = g.get_state()
    first = [g._uniform((4,), -1.0, 1.0, np.float32), g._normal((5,), 2.0, 0.5, np.float64),
             g._randint(-3, 9, (6,), np.int64), g._randperm(7, np.int64),
             g._bernoulli(np.full(5, 0.5, np.float32), np.float32),
             g._bernoulli_shape((4,), 0.3, np.bool_), g._exponential((3,), 2.0, np.float32),
             g._multinomial(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 1.0]], np.float32), 2),
             g._multinomial(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 1.0]], np.float32), 6,
                            True),
             g._random((4,), np.int32)]
    assert first[0].dtype == np.float32 and first[0].min() >= -1 and first[0].max() < 1
    assert first[1].dtype == np.float64 and first[1].shape == (5,)
    assert first[2].min() >= -3 and first[2].max() < 9
    assert sorted(first[3].tolist()) == list(range(7))
    assert first[6].min() > 0
    assert first[7].shape == (2, 2) and first[7][1, 0] == 2 and first[7][0, 0] != 2
    assert first[8].shape == (2, 6) and (first[8][1] == 2).all() and (first[8][0] != 2).all()
    g.set_state(st)
    again = [g._uniform((4,), -1.0, 1.0, np.float32), g._normal((5,), 2.0, 0.5, np.float64)]
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[1], first[1])
    assert not np.array_equal(g._uniform((4,), -1.0, 1.0, np.float32), first[0])
