"""lamina/ops/select.py. maximum / minimum, clamp and where run through the op catalogue
(tests/ops/op_db.py: float64 gradcheck and float32 torch parity, in tests/ops/test_op_db.py)."""

from __future__ import annotations

from ._coverage import missing


def test_every_op_is_tested():
    assert missing("select", {}) == []
