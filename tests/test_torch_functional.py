"""lamina._torch_functional: the ``torch.*`` twins of F ops with ATen's own argument order.

The F ops themselves are tested in tests/ops/ (the OpInfo catalogue) and tests/nn/test_functional.py;
this file checks that each twin that reorders arguments passes them to the right place.
"""

from __future__ import annotations

import numpy as np
import torch

import lamina as L


def _pair(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return L.tensor(a), torch.tensor(a)


def test_batch_norm_argument_order_matches_torch():
    x, tx = _pair((4, 3, 5))
    w, tw = _pair((3,), 1)
    b, tb = _pair((3,), 2)
    rm, trm = L.zeros(3), torch.zeros(3)
    rv, trv = L.ones(3), torch.ones(3)
    out = L.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, False)
    ref = torch.batch_norm(tx, tw, tb, trm, trv, True, 0.1, 1e-5, False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)


def test_layer_norm_and_dropout_twins():
    x, tx = _pair((2, 6))
    w, tw = _pair((6,), 3)
    np.testing.assert_allclose(L.layer_norm(x, (6,), w).numpy(),
                               torch.layer_norm(tx, (6,), tw).numpy(), rtol=1e-5, atol=1e-6)
    assert L.dropout(x, 0.5, False) is x or np.array_equal(L.dropout(x, 0.5, False).numpy(),
                                                          x.numpy())
    assert (L.dropout(x, 1.0, True).numpy() == 0).all()
