"""lamina/ops/index.py. Its ops run through the op catalogue (tests/ops/op_db.py, tests/ops/test_op_db.py); index forms and __setitem__ are in tests/test_tensor.py and tests/ops/test_edge_cases.py."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {}


def test_every_op_is_tested():
    assert missing("index", ELSEWHERE) == []
