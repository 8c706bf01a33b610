"""lamina/ops/cast.py. Cast runs through the op catalogue (tests/ops/op_db.py, via ``Tensor.to``
and promotion); device copies are tested where devices are."""

from __future__ import annotations

import numpy as np

import lamina

from ._coverage import missing

ELSEWHERE = {
    "ToDevice": "tests/test_device.py, tests/test_cuda.py (Tensor.to across devices, gradients)",
}


def test_every_op_is_tested():
    assert missing("cast", ELSEWHERE) == []


def test_cast_is_the_identity_for_the_same_dtype_and_a_to_copy_node_otherwise():
    from lamina.ops.cast import cast

    x = lamina.ones(2, requires_grad=True)
    assert cast(x, lamina.float32) is x
    y = cast(x, lamina.float64)
    assert y.dtype is lamina.float64 and y.grad_fn.name() == "ToCopyBackward0"
    y.sum().backward()
    assert x.grad.dtype is lamina.float32 and np.array_equal(x.grad.numpy(), [1.0, 1.0])
