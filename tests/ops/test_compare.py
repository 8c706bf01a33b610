"""lamina/ops/compare.py: comparisons, logical and bitwise ops against torch (they carry no
gradient, so the op catalogue does not list them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina

from ._coverage import missing

A = [[1.0, 2.0, float("nan")], [0.0, -1.0, 3.0]]
B = [[1.0, 1.0, 2.0], [0.0, 0.0, float("inf")]]


def test_no_op_classes():
    assert missing("compare", {}) == []


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "less", "less_equal",
                                  "greater", "greater_equal", "not_equal"])
@pytest.mark.parametrize("other", ["tensor", 1.0, 2])
def test_comparisons_match_torch(name, other):
    a, ta = lamina.tensor(A), torch.tensor(A)
    b, tb = (lamina.tensor(B), torch.tensor(B)) if other == "tensor" else (other, other)
    got, want = getattr(lamina, name)(a, b), getattr(torch, name)(ta, tb)
    assert got.dtype is lamina.bool
    assert np.array_equal(got.numpy(), want.numpy())
    assert np.array_equal(getattr(a, name)(b).numpy(), want.numpy())


def test_operators_logical_and_bitwise_match_torch():
    a, ta = lamina.tensor([0, 1, 2, 7]), torch.tensor([0, 1, 2, 7])
    b, tb = lamina.tensor([1, 1, 4, 2]), torch.tensor([1, 1, 4, 2])
    for f in (lambda x, y: x == y, lambda x, y: x < y, lambda x, y: x & y, lambda x, y: x | y,
              lambda x, y: x ^ y, lambda x, y: ~x, lambda x, y: x.logical_xor(y),
              lambda x, y: x.logical_and(y), lambda x, y: x.bitwise_not()):
        assert np.array_equal(f(a, b).numpy(), f(ta, tb).numpy())
    m = a > 0
    assert np.array_equal((~m).numpy(), (~(ta > 0)).numpy())
    c = a.clone()
    c &= b
    assert np.array_equal(c.numpy(), (ta & tb).numpy())


def test_isclose_and_finiteness_match_torch():
    a, ta = lamina.tensor(A), torch.tensor(A)
    b, tb = lamina.tensor(B), torch.tensor(B)
    for name in ("isnan", "isinf", "isfinite"):
        assert np.array_equal(getattr(lamina, name)(a).numpy(), getattr(torch, name)(ta).numpy())
    assert np.array_equal(lamina.isclose(a, b, equal_nan=True).numpy(),
                          torch.isclose(ta, tb, equal_nan=True).numpy())
    assert lamina.allclose(a, a, equal_nan=True) is True
    assert lamina.equal(a[1:], a[1:]) and not lamina.equal(a, a[1:])
