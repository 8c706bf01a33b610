"""lamina/autograd/__init__.py: ``autograd.backward`` and ``autograd.grad``.

The engine behind them is tested in tests/autograd/test_engine.py, grad mode in
test_grad_mode.py, custom Functions in test_function.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina as L

_a = np.array([[1.0, -2.0], [0.5, 3.0]])


def _both():
    x, t = L.tensor(_a, requires_grad=True), torch.tensor(_a, requires_grad=True)
    return x, t, (x * x).sum(0), (t * t).sum(0)


def test_grad_with_grad_outputs_matches_torch_and_leaves_grad_alone():
    x, t, y, ty = _both()
    (g,) = L.autograd.grad(y, x, L.tensor([1.0, 2.0]))
    (tg,) = torch.autograd.grad(ty, t, torch.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(g.numpy(), tg.numpy())
    assert x.grad is None


def test_backward_with_inputs_accumulates_only_those():
    x, t, y, ty = _both()
    w = L.tensor(2.0, requires_grad=True)
    L.autograd.backward([(y * w).sum()], inputs=[x])
    tw = torch.tensor(2.0, requires_grad=True)
    torch.autograd.backward([(ty * tw).sum()], inputs=[t])
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert w.grad is None


def test_errors_are_torchs():
    x, _, y, _ = _both()
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\]"):
        L.autograd.grad(y, x, L.ones(3))
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        L.autograd.grad(y.sum(), [x, L.ones(1, requires_grad=True)], retain_graph=True)
    (z,) = L.autograd.grad(y.sum(), [L.ones(1, requires_grad=True)], allow_unused=True,
                           materialize_grads=True)
    assert z.tolist() == [0.0]
