"""lamina/_backends/__init__.py: which array backend serves a device.

The backends themselves: tests/_backends/test_numpy_backend.py and test_cupy_backend.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina as L
from lamina._backends import get_backend


def test_cpu_is_numpy_and_cuda_is_cupy(fake_cupy):
    assert get_backend(L.device("cpu")).xp is np
    b = get_backend(L.device("cuda", 1))
    assert b.xp is fake_cupy and b.index == 1
    assert get_backend(L.device("cuda")).index == 0


def test_meta_has_no_backend():
    with pytest.raises(RuntimeError, match="no array backend for device 'meta'"):
        get_backend(L.device("meta"))
