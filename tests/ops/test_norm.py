"""lamina/ops/norm.py. The normalization ops are tested with their layers, against torch (forward, backward, train and eval)."""

from __future__ import annotations

import numpy as np

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


def test_row_mean_is_numpy_mean_bit_for_bit():
    # the row normalizations skip NumPy's mean wrapper; the values must not change
    from lamina.ops.norm import _row_mean

    rs = np.random.RandomState(3)
    for dt in (np.float16, np.float32, np.float64):
        for m, k in ((1, 1), (3, 7), (64, 128), (5, 4099)):
            a = (rs.standard_normal((m, k)) * 10.0 ** rs.uniform(-4, 4, (m, 1))).astype(dt)
            got, want = _row_mean(a), a.mean(axis=-1, keepdims=True)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
