"""lamina.backends.mkl: lamina has no MKL path of its own (its CPU math is NumPy's).

The backends package as a whole is tested in tests/backends/test_init.py.
"""

from __future__ import annotations

import torch

import lamina as L


def test_not_available_and_same_names_as_torch():
    assert L.backends.mkl.is_available() is False
    assert all(hasattr(torch.backends.mkl, n) for n in L.backends.mkl.__all__)
