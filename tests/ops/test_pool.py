"""lamina/ops/pool.py. The pooling ops are tested with their layers, against torch."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {
    "MaxPoolNd": "tests/nn/modules/test_pooling.py",
    "AvgPoolNd": "tests/nn/modules/test_pooling.py",
    "AdaptiveAvgPoolNd": "tests/nn/modules/test_pooling.py",
    "AdaptiveMaxPoolNd": "tests/nn/modules/test_pooling.py",
    "MaxUnpoolNd": "tests/nn/modules/test_pooling.py",
}


def test_every_op_is_tested():
    assert missing("pool", ELSEWHERE) == []
