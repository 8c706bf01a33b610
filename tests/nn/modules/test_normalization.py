"""LayerNorm, GroupNorm, RMSNorm and LocalResponseNorm against torch: forward and backward with
copied weights, affine/bias variants, reprs and state_dict keys, float64 gradchecks of the
functionals, shape errors that name the layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import lt


def _perturbed(m, t):
    """Non-trivial affine parameters (the defaults are ones and zeros) in both layers."""
    with lamina.no_grad(), torch.no_grad():
        for (_, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
            v = rand(*q.shape, seed=3) * 0.5 + 1
            p.copy_(lt(v))
            q.copy_(torch.from_numpy(v))


@pytest.mark.parametrize("args,kw,shape", [
    ((8,), {}, (3, 8)),
    ((8,), {}, (2, 4, 8)),
    (([4, 5],), {"eps": 1e-3}, (2, 3, 4, 5)),
    ((5,), {"elementwise_affine": False}, (4, 5)),
    ((5,), {"bias": False}, (3, 2, 5)),
])
def test_layer_norm_matches_torch(args, kw, shape):
    m, t = pair("LayerNorm", *args, **kw)
    check_repr_and_state(m, t)
    _perturbed(m, t)
    run_both(m, t, rand(*shape) * 2 + 0.5)


@pytest.mark.parametrize("args,kw,shape", [
    ((2, 4), {}, (3, 4, 5)),
    ((1, 6), {}, (2, 6, 3, 3)),
    ((3, 6), {"affine": False}, (2, 6, 4)),
    ((6, 6), {"eps": 1e-3}, (2, 6, 2, 2, 2)),
    ((2, 4), {"bias": False}, (2, 4)),
])
def test_group_norm_matches_torch(args, kw, shape):
    m, t = pair("GroupNorm", *args, **kw)
    check_repr_and_state(m, t)
    _perturbed(m, t)
    run_both(m, t, rand(*shape) * 2 + 0.5)


@pytest.mark.parametrize("args,kw,shape", [
    ((6,), {}, (3, 6)),
    (([3, 4],), {"eps": 1e-4}, (2, 3, 4)),
    ((4,), {"elementwise_affine": False}, (2, 5, 4)),
])
def test_rms_norm_matches_torch(args, kw, shape):
    m, t = pair("RMSNorm", *args, **kw)
    check_repr_and_state(m, t)
    _perturbed(m, t)
    run_both(m, t, rand(*shape))


@pytest.mark.parametrize("args,shape", [((2,), (2, 5, 3)), ((3, 1e-3, 0.5, 2.0), (2, 6, 4, 4)),
                                        ((4,), (1, 5, 2, 3, 2))])
def test_local_response_norm_matches_torch(args, shape):
    m, t = pair("LocalResponseNorm", *args)
    check_repr_and_state(m, t)
    run_both(m, t, rand(*shape) * 3)


def test_grad_fn_names():
    x = lamina.randn(2, 4, 3, requires_grad=True)
    assert nn.LayerNorm(3)(x).grad_fn.name() == "NativeLayerNormBackward0"
    assert nn.GroupNorm(2, 4)(x).grad_fn.name() == "NativeGroupNormBackward0"


def test_group_norm_constructor_error_matches_torch():
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups "
                                         r"\(2\)"):
        nn.GroupNorm(2, 5)


@pytest.mark.parametrize("layer,shape,expected", [
    (nn.LayerNorm(8), (2, 7), "(*, 8)"),
    (nn.LayerNorm([3, 4]), (2, 4, 3), "(*, 3, 4)"),
    (nn.RMSNorm(8), (8, 2), "(*, 8)"),
    (nn.GroupNorm(2, 4), (2, 6, 3), "(N, 4, *)"),
])
def test_shape_errors_name_the_layer(layer, shape, expected):
    net = nn.Sequential(layer)
    with pytest.raises(ModuleInputError) as ei:
        net(lamina.randn(*shape))
    assert str(ei.value) == f"{layer!r} at '0' got input of shape {shape}; expected {expected}"


def test_local_response_norm_rank_error_is_value_error():
    with pytest.raises(ValueError, match="LocalResponseNorm"):
        nn.LocalResponseNorm(2)(lamina.randn(3, 4))


def test_functional_norm_gradchecks():
    gc = lamina.autograd.gradcheck
    F = nn.functional
    f64 = np.float64
    x = lt(rand(2, 4, 3, dtype=f64), requires_grad=True)
    w = lt(rand(4, 3, seed=1, dtype=f64) + 1, requires_grad=True)
    b = lt(rand(4, 3, seed=2, dtype=f64), requires_grad=True)
    assert gc(lambda a, c, d: F.layer_norm(a, (4, 3), c, d), (x, w, b))
    assert gc(lambda a, c: F.rms_norm(a, (4, 3), c, 1e-6), (x, w))
    wc = lt(rand(4, seed=3, dtype=f64) + 1, requires_grad=True)
    bc = lt(rand(4, seed=4, dtype=f64), requires_grad=True)
    assert gc(lambda a, c, d: F.group_norm(a, 2, c, d), (x, wc, bc))
    assert gc(lambda a: F.local_response_norm(a, 3, 0.1, 0.75, 1.0), (x,))
