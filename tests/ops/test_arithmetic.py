"""lamina/ops/arithmetic.py. Its ops run through the op catalogue (tests/ops/op_db.py: float64
gradcheck and float32 torch parity, forward and backward, in tests/ops/test_op_db.py); in-place
forms in tests/ops/test_inplace.py, promotion in tests/ops/test_promotion.py."""

from __future__ import annotations

from ._coverage import missing


def test_every_op_is_tested():
    assert missing("arithmetic", {}) == []
