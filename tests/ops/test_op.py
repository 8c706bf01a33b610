"""lamina.ops._op: the Op contract (apply, graph nodes, saved-array version checks, views).

Every real op goes through it and is tested through the catalogue (tests/ops/op_db.py,
tests/ops/test_op_db.py); this file checks the contract on a small Op defined here.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina as L
from lamina.ops._op import Op, sum_to_shape


class _Cube(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.saved = (a,)
        return a * a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return 3 * a * a * g


def test_apply_builds_a_node_named_after_the_op():
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = _Cube.apply(x)
    assert type(y.grad_fn).__name__ == "_CubeBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_no_node_without_grad_and_scalars_become_arrays():
    y = _Cube.apply(L.tensor([2.0]))
    assert y.grad_fn is None and not y.requires_grad
    with L.no_grad():
        assert _Cube.apply(L.tensor([1.0], requires_grad=True)).grad_fn is None

    class _Sum(Op):
        @staticmethod
        def forward(ctx, a):
            return a.sum()  # a NumPy scalar

    s = _Sum.apply(L.tensor([1.0, 2.0]))
    assert isinstance(s._data, np.ndarray) and s.item() == 3.0


def test_in_place_change_of_a_saved_input_is_detected():
    x = L.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = _Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_sum_to_shape_unbroadcasts():
    g = np.ones((2, 3, 4))
    assert sum_to_shape(g, (3, 1)).tolist() == [[8.0]] * 3
    assert sum_to_shape(g, (2, 3, 4)) is g
