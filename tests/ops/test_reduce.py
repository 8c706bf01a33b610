"""lamina/ops/reduce.py. Its ops run through the op catalogue (tests/ops/op_db.py, tests/ops/test_op_db.py); dtype rules of reductions are in tests/test_properties.py."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {}


def test_every_op_is_tested():
    assert missing("reduce", ELSEWHERE) == []
