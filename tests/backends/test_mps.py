"""lamina.backends.mps: lamina has no Apple Metal device.

The backends package as a whole is tested in tests/backends/test_init.py.
"""

from __future__ import annotations

import torch

import lamina as L


def test_neither_built_nor_available_and_same_names_as_torch():
    assert L.backends.mps.is_available() is False
    assert L.backends.mps.is_built() is False
    assert all(hasattr(torch.backends.mps, n) for n in L.backends.mps.__all__)
