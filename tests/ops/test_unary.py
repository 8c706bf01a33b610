"""lamina/ops/unary.py. Its ops run through the op catalogue (tests/ops/op_db.py: float64
gradcheck and float32 torch parity, forward and backward, in tests/ops/test_op_db.py); here the
table-made family (one row per op) is checked against torch once more."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina.ops import unary as U

from ._coverage import missing

ELSEWHERE = {
    "_ZeroGrad": "tests/ops/op_db.py (the base of floor, ceil, trunc: never applied itself)",
}


def test_every_op_is_tested():
    assert missing("unary", ELSEWHERE) == []


# each row's domain inside which torch and lamina both are finite
_DOMAIN = {"log": (0.1, 4), "log2": (0.1, 4), "log10": (0.1, 4), "log1p": (-0.9, 4),
           "sqrt": (0.1, 4), "rsqrt": (0.1, 4), "reciprocal": (0.5, 4), "asin": (-0.9, 0.9),
           "acos": (-0.9, 0.9), "atanh": (-0.9, 0.9), "acosh": (1.1, 4), "tan": (-1.2, 1.2)}
_NAMES = [row[0] if isinstance(row[0], str) else row[0][0] for row in U._UNARY]


@pytest.mark.parametrize("name", _NAMES)
def test_table_rows_match_torch(name):
    lo, hi = _DOMAIN.get(name, (-3, 3))
    a = np.random.default_rng(0).uniform(lo, hi, 64).astype(np.float32)
    x = lamina.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = getattr(lamina, name)(x), getattr(torch, name)(tx)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = np.random.default_rng(1).standard_normal(64).astype(np.float32)
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=2e-6, atol=1e-7)
    # each name is also Tensor.X, Tensor.X_ and torch.X_, and promotes integers to float
    assert getattr(lamina.Tensor, name) is getattr(lamina, name)
    z = lamina.tensor(a)
    assert getattr(z, name + "_")() is z and np.array_equal(z.numpy(), y.detach().numpy())
    with np.errstate(all="ignore"):  # atanh(1) = inf
        assert getattr(lamina, name)(lamina.tensor([1])).dtype is lamina.float32


def test_one_sigmoid_with_torchs_two_numerics():
    # torch.sigmoid is 0 below x = -88 in float32; the sigmoid inside logsigmoid's gradient
    # keeps the subnormal tail (3.8e-44 at x = 100): sigmoid_array's two forms
    a = np.array([-100.0, -88.5, -1.0, 0.0, 2.0, 100.0], np.float32)
    fast, stable = U.sigmoid_array(np, a), U.sigmoid_array(np, a, stable=True)
    assert fast.dtype == stable.dtype == np.float32
    np.testing.assert_allclose(fast, torch.sigmoid(torch.tensor(a)).numpy(), rtol=1e-6, atol=0)
    t = torch.tensor(-a, requires_grad=True)
    torch.nn.functional.logsigmoid(t).sum().backward()
    np.testing.assert_allclose(stable, t.grad.numpy(), rtol=1e-6, atol=0)
    assert fast[0] == 0.0 and 0.0 < stable[0] < 1e-43
    assert U.sigmoid_array(np, np.float16(-3.0) * np.ones((), np.float16)).shape == ()
