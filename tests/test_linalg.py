"""lamina.linalg: torch.linalg's names for ops defined in lamina.ops.

The ops behind them (``diagonal``, ``norm``, ``matmul``) are tested through the op catalogue in
tests/ops/ (test_index.py, test_reduce.py, test_linalg.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina as L

_a = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("kw", [{}, {"ord": 1, "dim": -1}, {"ord": float("inf"), "dim": (0, 2),
                                                           "keepdim": True}])
def test_vector_norm_matches_torch(kw):
    np.testing.assert_allclose(L.linalg.vector_norm(L.tensor(_a), **kw).numpy(),
                               torch.linalg.vector_norm(torch.tensor(_a), **kw).numpy(),
                               rtol=1e-5)


def test_diagonal_defaults_to_the_last_two_dims():
    got = L.linalg.diagonal(L.tensor(_a), offset=1)
    np.testing.assert_array_equal(got.numpy(),
                                  torch.linalg.diagonal(torch.tensor(_a), offset=1).numpy())
    assert L.linalg.matmul is L.matmul
