"""lamina.autograd.functional: jacobian and vjp against torch.autograd.functional.

(``autograd.grad``, which both are built on, is tested in tests/autograd/test_engine.py.)
"""

from __future__ import annotations

import numpy as np
import torch

import lamina as L
from lamina.autograd import functional as AF

_x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float64)
_y = np.array([1.0, -2.0, 0.5], dtype=np.float64)


def _f(mod):
    return lambda x, y: (x * y).sin().sum(0) * y


def test_jacobian_matches_torch():
    got = AF.jacobian(_f(L), (L.tensor(_x), L.tensor(_y)))
    ref = torch.autograd.functional.jacobian(_f(torch), (torch.tensor(_x), torch.tensor(_y)))
    assert len(got) == 2
    for g, r in zip(got, ref):
        assert tuple(g.shape) == tuple(r.shape)
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-12)
    single = AF.jacobian(lambda x: x.exp(), L.tensor(_y))
    np.testing.assert_allclose(single.numpy(), np.diag(np.exp(_y)), rtol=1e-12)


def test_vjp_matches_torch_and_does_not_touch_inputs():
    x = L.tensor(_x, requires_grad=True)
    v = np.array([1.0, 2.0, 3.0])
    out, (gx, gy) = AF.vjp(_f(L), (x, L.tensor(_y)), L.tensor(v))
    tout, (tgx, tgy) = torch.autograd.functional.vjp(_f(torch), (torch.tensor(_x),
                                                                 torch.tensor(_y)),
                                                     torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), tgy.numpy(), rtol=1e-12)
    assert not out.requires_grad and x.grad is None
