"""nn.Flatten and nn.Unflatten: shapes, gradients, reprs and constructor errors as torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.oracle_helpers import assert_close, lt, tt


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2), (2,), (0, -1)])
def test_flatten_matches_torch(args):
    x = np.random.RandomState(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    lx, tx = lt(x, True), tt(x, True)
    lo, to = nn.Flatten(*args)(lx), torch.nn.Flatten(*args)(tx)
    assert tuple(lo.shape) == tuple(to.shape)
    assert_close(lo, to)
    g = np.random.RandomState(1).standard_normal(tuple(to.shape)).astype(np.float32)
    lo.backward(lt(g))
    to.backward(tt(g))
    assert_close(lx.grad, tx.grad)
    assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


@pytest.mark.parametrize("dim,sizes", [(1, (2, 5, 5)), (-1, [5, 10]), (1, (-1, 25)),
                                       (0, lamina.Size([2, 1]))])
def test_unflatten_matches_torch(dim, sizes):
    x = np.arange(100, dtype=np.float32).reshape(2, 50)
    tsizes = torch.Size(list(sizes)) if isinstance(sizes, lamina.Size) else sizes
    lo = nn.Unflatten(dim, sizes)(lt(x))
    to = torch.nn.Unflatten(dim, tsizes)(tt(x))
    assert tuple(lo.shape) == tuple(to.shape)
    assert_close(lo, to)
    if not isinstance(sizes, lamina.Size):
        assert repr(nn.Unflatten(dim, sizes)) == repr(torch.nn.Unflatten(dim, sizes))


def test_flatten_then_unflatten_round_trip_in_a_model():
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 12), nn.Unflatten(1, (3, 4)))
    x = lamina.randn(5, 3, 4, requires_grad=True)
    out = m(x)
    assert tuple(out.shape) == (5, 3, 4)
    out.sum().backward()
    assert tuple(x.grad.shape) == (5, 3, 4)


def test_unflatten_constructor_errors_match_torch():
    for lib in (nn, torch.nn):
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but "
                                            "found type int"):
            lib.Unflatten(1, 5)
        with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found "
                                            "element of type float at pos 0"):
            lib.Unflatten(1, (2.0, 3))
    with pytest.raises(TypeError, match="no named tensors"):
        nn.Unflatten("features", (("C", 2), ("H", 3)))


def test_unflatten_size_mismatch_raises():
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (3, 3))(lamina.randn(2, 10))
