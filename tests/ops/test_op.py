"""ops/_op.py: the Op contract. Here: ``Op.named``, one op under several grad_fn names (the
rest of the contract is exercised by every op through tests/ops/op_db.py and tests/autograd/)."""

from __future__ import annotations

import numpy as np

import lamina
from lamina.ops._op import Op
from lamina.ops.reduce import Sum


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
