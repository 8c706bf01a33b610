"""Padding layers against torch: zero, constant, reflection, replication and circular padding
in 1, 2 and 3 dimensions (int and per-side arguments, batched and unbatched), forward and
backward, reprs; F.pad in every mode with a float64 gradcheck; rank errors name the layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt

SPATIAL = {1: (6,), 2: (5, 6), 3: (4, 5, 3)}
PADS = {1: [2, (1, 3)], 2: [1, (1, 2, 0, 3)], 3: [1, (1, 0, 2, 1, 0, 2)]}
KINDS = ["ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad"]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_torch(nd, kind, which, batched):
    m, t = pair(f"{kind}{nd}d", PADS[nd][which])
    check_repr_and_state(m, t)
    shape = ((2,) if batched else ()) + (3,) + SPATIAL[nd]
    run_both(m, t, rand(*shape))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("value", [0.0, 2.5, -1])
def test_constant_pad_matches_torch(nd, value):
    m, t = pair(f"ConstantPad{nd}d", PADS[nd][1], value)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 3, *SPATIAL[nd]))


def test_negative_padding_crops_like_torch():
    m, t = pair("ZeroPad2d", (-1, 2, 0, -2))
    run_both(m, t, rand(1, 2, 5, 6))
    m, t = pair("CircularPad1d", (-1, 2))
    run_both(m, t, rand(1, 2, 5))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_functional_pad_all_modes_and_gradcheck(mode):
    x = rand(2, 3, 4, 5)
    pad = (1, 2, 2, 1)
    assert_close(nn.functional.pad(lt(x), pad, mode),
                 torch.nn.functional.pad(torch.from_numpy(x), pad, mode))
    x64 = lt(rand(1, 2, 3, 4, dtype=np.float64), requires_grad=True)
    assert lamina.autograd.gradcheck(lambda a: nn.functional.pad(a, (2, 1, 1, 2), mode), (x64,))


def test_reflect_pad_too_large_is_an_error():
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.ReflectionPad1d(3)(lamina.randn(1, 2, 3))


@pytest.mark.parametrize("layer,shape,expected", [
    (nn.ReflectionPad2d(1), (4, 4), "(N, C, H, W) or (C, H, W)"),
    (nn.CircularPad1d(1), (1, 2, 3, 4), "(N, C, L) or (C, L)"),
    (nn.ReplicationPad3d(1), (2, 3, 4), "(N, C, D, H, W) or (C, D, H, W)"),
])
def test_rank_errors_name_the_layer(layer, shape, expected):
    net = nn.Sequential(layer)
    with pytest.raises(ValueError) as ei:
        net(lamina.randn(*shape))
    assert str(ei.value) == f"{layer!r} at '0' got input of shape {shape}; expected {expected}"
