"""lamina/ops/elementwise.py. Its ops run through the op catalogue (tests/ops/op_db.py: float64 gradcheck and float32 torch parity, forward and backward, in tests/ops/test_op_db.py); broadcasting and promotion properties are in tests/test_properties.py."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {
    "ToDevice": "tests/test_device.py, tests/test_cuda.py (Tensor.to across devices, gradients)",
    "_SavedXUnary": "tests/ops/op_db.py (the base of asin, acos, atan, sinh, cosh, asinh, acosh, atanh: never applied itself)",
    "_ZeroGrad": "tests/ops/op_db.py (the base of floor, ceil, round, trunc, sign: never applied itself)",
}


def test_every_op_is_tested():
    assert missing("elementwise", ELSEWHERE) == []
