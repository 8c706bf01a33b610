"""lamina/ops/sampling.py. Padding, interpolation, pixel shuffle and fold/unfold are tested with their layers, against torch."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {
    "_PadNd": "tests/nn/modules/test_padding.py, tests/nn/test_functional.py",
    "_Interp": "tests/nn/modules/test_upsampling.py",
    "PixelShuffle": "tests/nn/modules/test_pixelshuffle.py",
    "PixelUnshuffle": "tests/nn/modules/test_pixelshuffle.py",
    "Im2Col": "tests/nn/modules/test_fold.py",
    "Col2Im": "tests/nn/modules/test_fold.py",
}


def test_every_op_is_tested():
    assert missing("sampling", ELSEWHERE) == []
