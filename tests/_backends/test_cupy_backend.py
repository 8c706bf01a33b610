"""lamina._backends.cupy_backend: the cuda backend object, on the NumPy-backed fake CuPy.

The cuda paths of the ops and tensors are covered in tests/test_cuda.py (on a real GPU with
``--device cuda``) and through the ``fake_cupy`` fixture in tests/test_tensor.py and
tests/test_random.py.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lamina._backends import cupy_backend


def test_backend_is_cached_per_index(fake_cupy):
    b = cupy_backend.get(1)
    assert cupy_backend.get(1) is b
    assert b.name == "cuda:1" and b.index == 1 and b.xp is fake_cupy
    assert b.array_type is fake_cupy.ndarray


def test_invalid_ordinal_names_the_device(fake_cupy):
    with pytest.raises(RuntimeError, match=r"invalid device ordinal: cuda:5 requested, 2 GPU"):
        cupy_backend.get(5)


def test_missing_cupy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    with pytest.raises(RuntimeError, match=r"needs CuPy.*lamina\[cuda\]"):
        cupy_backend._import_cupy()


def test_round_trip_and_scatter_add_sums_repeats(fake_cupy):
    b = cupy_backend.get(0)
    a = b.from_numpy(np.zeros(3, np.float32))
    assert isinstance(a, fake_cupy.ndarray)
    b.scatter_add(a, b.asarray(np.array([0, 2, 0])), b.asarray(np.ones(3, np.float32)))
    np.testing.assert_array_equal(b.to_numpy(a), [2.0, 0.0, 1.0])
