"""lamina.special: torch.special's names (re-exports of ops tested in tests/ops/).

Checks that each name is the op torch.special means by it (e.g. ``expit`` is the sigmoid).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina as L

_a = np.linspace(-3, 3, 7, dtype=np.float32)


@pytest.mark.parametrize("name", ["erf", "expit", "expm1", "log1p", "round"])
def test_unary_names_match_torch_special(name):
    x = np.abs(_a) if name == "log1p" else _a
    np.testing.assert_allclose(getattr(L.special, name)(L.tensor(x)).numpy(),
                               getattr(torch.special, name)(torch.tensor(x)).numpy(),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_reductions_match_torch_special(name):
    np.testing.assert_allclose(getattr(L.special, name)(L.tensor(_a), 0).numpy(),
                               getattr(torch.special, name)(torch.tensor(_a), 0).numpy(),
                               rtol=1e-6)
