"""lamina/ops/norm.py. The normalization ops are tested with their layers, against torch (forward, backward, train and eval)."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {
    "BatchNorm": "tests/nn/modules/test_batchnorm.py",
    "InstanceNorm": "tests/nn/modules/test_instancenorm.py",
    "GroupNorm": "tests/nn/modules/test_normalization.py",
    "LayerNorm": "tests/nn/modules/test_normalization.py",
    "RMSNorm": "tests/nn/modules/test_normalization.py",
}


def test_every_op_is_tested():
    assert missing("norm", ELSEWHERE) == []
