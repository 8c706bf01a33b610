"""lamina.backends.openmp: lamina has no OpenMP path of its own (its threads are described in
docs/architecture.md and tested in tests/_backends/test_numpy_backend.py).

The backends package as a whole is tested in tests/backends/test_init.py.
"""

from __future__ import annotations

import torch

import lamina as L


def test_not_available_and_same_names_as_torch():
    assert L.backends.openmp.is_available() is False
    assert all(hasattr(torch.backends.openmp, n) for n in L.backends.openmp.__all__)
