"""lamina.backends.mkldnn: no oneDNN path; torch's ``enabled`` flag is stored only.

The backends package as a whole is tested in tests/backends/test_init.py.
"""

from __future__ import annotations

import torch

import lamina as L


def test_not_available_flag_stored_and_same_names_as_torch():
    assert L.backends.mkldnn.is_available() is False
    assert L.backends.mkldnn.enabled is True
    assert all(hasattr(torch.backends.mkldnn, n) for n in L.backends.mkldnn.__all__)
