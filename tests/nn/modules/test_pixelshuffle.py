"""nn.PixelShuffle and nn.PixelUnshuffle against torch: batched, unbatched and extra leading
dims, forward and backward, reprs, errors; they are inverse of each other."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import nn
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import lt, npy


@pytest.mark.parametrize("shape,r", [((2, 9, 3, 4), 3), ((8, 2, 3), 2), ((2, 2, 4, 1, 1), 2)])
def test_pixel_shuffle_matches_torch(shape, r):
    m, t = pair("PixelShuffle", r)
    check_repr_and_state(m, t)
    run_both(m, t, rand(*shape))


@pytest.mark.parametrize("shape,r", [((2, 1, 6, 9), 3), ((2, 4, 6), 2), ((2, 2, 3, 4, 4), 2)])
def test_pixel_unshuffle_matches_torch(shape, r):
    m, t = pair("PixelUnshuffle", r)
    check_repr_and_state(m, t)
    run_both(m, t, rand(*shape))


def test_round_trip_and_grad_fn():
    x = lamina.randn(2, 8, 3, 5, requires_grad=True)
    y = nn.PixelShuffle(2)(x)
    assert y.grad_fn.name() == "PixelShuffleBackward0"
    np.testing.assert_array_equal(npy(nn.PixelUnshuffle(2)(y)), npy(x))
    assert lamina.autograd.gradcheck(lambda a: nn.functional.pixel_shuffle(a, 2),
                                     (lt(rand(1, 4, 2, 3, dtype=np.float64), True),))


def test_errors():
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        nn.PixelShuffle(2)(lamina.randn(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="height to be divisible by downscale_factor"):
        nn.PixelUnshuffle(2)(lamina.randn(1, 3, 3, 2))
