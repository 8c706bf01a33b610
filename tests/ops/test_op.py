"""lamina.ops._op: the Op contract (apply, graph nodes, saved-array version checks, views).

Every real op goes through it and is tested through the catalogue (tests/ops/op_db.py,
tests/ops/test_op_db.py); this file checks the contract on a small Op defined here.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina
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


# ---------------------------------------------------------------- Op.named
from lamina.ops.reduce import Sum  # noqa: E402
class _Twice(Op):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_named_variant_is_cached_and_keeps_forward_and_backward():
    v = _Twice.named("MulBackward0")
    assert v is _Twice.named("MulBackward0")  # made once
    assert v is not _Twice.named("MulBackward1")
    assert _Twice.named("_TwiceBackward0") is _Twice  # its own name: the op itself
    assert issubclass(v, _Twice) and v.forward is _Twice.forward and v.backward is _Twice.backward
    assert v.__name__ == "_Twice"  # errors that name the op still say _twice
    x = lamina.ones(3, requires_grad=True)
    y = v.apply(x)
    assert type(y.grad_fn).__name__ == y.grad_fn.name() == "MulBackward0"
    assert type(_Twice.apply(x).grad_fn).__name__ == "_TwiceBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_named_variants_of_one_op_have_distinct_node_classes():
    a, b = Sum.named("SumBackward1"), Sum.named("SumBackward7")
    assert a._node is not b._node is not Sum._node
    assert Sum._node.__name__ == "SumBackward0" and b._node.__name__ == "SumBackward7"
    # the variant used by sum(dim) is the cached one
    x = lamina.ones(2, 2, requires_grad=True)
    assert type(x.sum(0).grad_fn) is a._node
