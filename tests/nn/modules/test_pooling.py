"""Pooling layers against torch: MaxPool (stride, padding, dilation, ceil_mode,
return_indices), AvgPool (count_include_pad, ceil_mode, divisor_override), adaptive average
and max pooling, MaxUnpool, LPPool; 1d/2d/3d, batched and unbatched, forward and backward;
reprs; float64 gradchecks of the functionals; shape errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt, npy

SPATIAL = {1: (11,), 2: (7, 9), 3: (5, 6, 7)}


def _distinct(*shape, seed=0):
    """Inputs without ties (so that max pooling's argmax is the same in both libraries)."""
    n = int(np.prod(shape))
    return (np.random.RandomState(seed).permutation(n).reshape(shape) / n).astype(np.float32)


def _ids(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items()) or "default"


MAX_KW = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "dilation": 2, "padding": 1},
    {"kernel_size": 3, "stride": 1, "return_indices": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1, "ceil_mode": True,
     "return_indices": True},
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", MAX_KW, ids=_ids)
def test_max_pool_matches_torch(nd, kw):
    m, t = pair(f"MaxPool{nd}d", **kw)
    check_repr_and_state(m, t)
    run_both(m, t, _distinct(2, 3, *SPATIAL[nd]))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_unbatched_and_tuple_args(nd):
    m, t = pair(f"MaxPool{nd}d", (2, 3, 2)[:nd], stride=(1, 2, 1)[:nd], return_indices=True)
    check_repr_and_state(m, t)
    run_both(m, t, _distinct(3, *SPATIAL[nd]))


AVG_KW = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", AVG_KW, ids=_ids)
def test_avg_pool_matches_torch(nd, kw):
    m, t = pair(f"AvgPool{nd}d", **kw)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 3, *SPATIAL[nd]))


@pytest.mark.parametrize("nd", [2, 3])
def test_avg_pool_divisor_override(nd):
    m, t = pair(f"AvgPool{nd}d", 2, stride=1, padding=1, divisor_override=3)
    run_both(m, t, rand(2, 3, *SPATIAL[nd]))
    run_both(m, t, rand(3, *SPATIAL[nd]))


@pytest.mark.parametrize("nd,out", [(1, 4), (1, 11), (2, (3, 4)), (2, (None, 2)), (2, 1),
                                    (3, (2, 3, 4)), (3, 1)])
def test_adaptive_pools_match_torch(nd, out):
    m, t = pair(f"AdaptiveAvgPool{nd}d", out)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 3, *SPATIAL[nd]))
    m, t = pair(f"AdaptiveMaxPool{nd}d", out, return_indices=True)
    check_repr_and_state(m, t)
    run_both(m, t, _distinct(2, 3, *SPATIAL[nd]))
    m, t = pair(f"AdaptiveMaxPool{nd}d", out)
    run_both(m, t, _distinct(3, *SPATIAL[nd]))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2,
                                                     "padding": 1}], ids=_ids)
def test_max_unpool_inverts_max_pool_like_torch(nd, kw):
    # sizes that the default output size of unpooling gives back
    sp = (4, 6, 8)[:nd] if kw["kernel_size"] == 2 else (5, 7, 3)[:nd]
    x = _distinct(2, 3, *sp)
    pl = getattr(nn, f"MaxPool{nd}d")(**kw, return_indices=True)
    pt = getattr(torch.nn, f"MaxPool{nd}d")(**kw, return_indices=True)
    ol, il = pl(lt(x))
    ot, it = pt(torch.from_numpy(x))
    m, t = pair(f"MaxUnpool{nd}d", **kw)
    check_repr_and_state(m, t)
    run_both(m, t, npy(ot), extra=(npy(it),))
    size = x.shape[2:]
    yl = m(ol, il, output_size=size)
    yt = t(ot, it, output_size=size)
    assert_close(yl, yt)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("p", [2, 1.5, 3])
def test_lp_pool_matches_torch(nd, p):
    m, t = pair(f"LPPool{nd}d", p, 2, stride=(None if p == 2 else 1))
    check_repr_and_state(m, t)
    run_both(m, t, np.abs(rand(2, 3, *SPATIAL[nd])) + 0.1)


def test_lp_pool_ceil_mode():
    m, t = pair("LPPool2d", 2, 3, stride=2, ceil_mode=True)
    run_both(m, t, np.abs(rand(1, 2, 7, 8)) + 0.1)


def test_grad_fn_names():
    x = lamina.randn(1, 2, 6, 6, requires_grad=True)
    assert nn.MaxPool2d(2)(x).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert nn.AvgPool2d(2)(x).grad_fn.name() == "AvgPool2DBackward0"
    assert nn.AdaptiveAvgPool2d(3)(x).grad_fn.name() == "AdaptiveAvgPool2DBackward0"


def test_functional_pool_gradchecks():
    gc = lamina.autograd.gradcheck
    F = nn.functional
    x = lt(_distinct(1, 2, 5, 6).astype(np.float64), requires_grad=True)
    assert gc(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), (x,))
    assert gc(lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert gc(lambda a: F.avg_pool2d(a, 2, 1, 1, divisor_override=3), (x,))
    assert gc(lambda a: F.adaptive_avg_pool2d(a, (3, 4)), (x,))
    assert gc(lambda a: F.adaptive_max_pool2d(a, (2, 4)), (x,))
    assert gc(lambda a: F.lp_pool2d(a + 1.0, 2.5, 2), (x,))
    x1 = lt(_distinct(2, 2, 8).astype(np.float64), requires_grad=True)
    assert gc(lambda a: F.max_pool1d(a, 2, dilation=2), (x1,))
    _, idx = F.max_pool1d_with_indices(x1.detach(), 2)
    y1 = lt(rand(2, 2, 4, dtype=np.float64), requires_grad=True)
    assert gc(lambda a: F.max_unpool1d(a, idx, 2), (y1,))


def test_functional_with_indices_matches_module():
    x = _distinct(2, 3, 8, 8)
    out, idx = nn.functional.max_pool2d_with_indices(lt(x), 2)
    ot, it = torch.nn.functional.max_pool2d_with_indices(torch.from_numpy(x), 2)
    assert_close(out, ot)
    assert_close(idx, it)
    out, idx = nn.functional.adaptive_max_pool2d_with_indices(lt(x), 3)
    ot, it = torch.nn.functional.adaptive_max_pool2d_with_indices(torch.from_numpy(x), 3)
    assert_close(out, ot)
    assert_close(idx, it)


@pytest.mark.parametrize("layer,shape,expected", [
    (nn.MaxPool2d(2), (2, 8), "(N, C, H, W) or (C, H, W)"),
    (nn.AvgPool1d(2), (1, 2, 3, 4), "(N, C, L) or (C, L)"),
    (nn.AdaptiveAvgPool3d(1), (2, 3), "(N, C, D, H, W) or (C, D, H, W)"),
    (nn.LPPool2d(2, 2), (4,), "(N, C, H, W) or (C, H, W)"),
])
def test_shape_errors_name_the_layer(layer, shape, expected):
    net = nn.Sequential(nn.Identity(), layer)
    with pytest.raises(ModuleInputError) as ei:
        net(lamina.randn(*shape))
    assert str(ei.value) == f"{layer!r} at '1' got input of shape {shape}; expected {expected}"


def test_pool_argument_errors():
    x = lamina.randn(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        nn.MaxPool2d(2, padding=2)(x)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        nn.AvgPool2d(5)(x)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2},
                                {"kernel_size": 3, "stride": 1, "padding": 1},
                                {"kernel_size": (1, 3), "stride": (1, 3)}], ids=_ids)
def test_max_pool_ties_and_nans_in_both_tap_layouts(kw):
    # small integer values: many ties (torch keeps the first maximum); NaNs win (the last
    # one); the tap-major copy (non-overlapping / few taps) and the strided-views loop
    # (many overlapping taps) must agree with torch on values, indices and gradients
    x = np.random.RandomState(3).randint(0, 3, (2, 3, 7, 9)).astype(np.float32)
    x[0, 0, 1, 1] = x[1, 2, 4, 5] = x[1, 2, 4, 6] = np.nan
    xl, xt = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, idx = nn.functional.max_pool2d(xl, return_indices=True, **kw)
    ot, it = torch.nn.functional.max_pool2d(xt, return_indices=True, **kw)
    np.testing.assert_array_equal(npy(out), ot.detach().numpy())
    np.testing.assert_array_equal(npy(idx), it.numpy())
    g = np.random.RandomState(4).standard_normal(tuple(ot.shape)).astype(np.float32)
    out.backward(lamina.tensor(g))
    ot.backward(torch.tensor(g))
    assert_close(xl.grad, xt.grad)


def test_max_pool_nan_and_large_kernel_indices_match_torch():
    x = _distinct(2, 3, 6, 6)
    x[0, 0, 1, 1] = np.nan
    x[0, 1, 2, 3] = x[0, 1, 3, 2] = np.nan  # two NaNs in one window: torch keeps the last
    x[1, 2, 0, 0] = np.inf
    out, idx = nn.functional.max_pool2d(lt(x), 2, return_indices=True)
    ot, it = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(npy(out), ot.numpy())
    np.testing.assert_array_equal(npy(idx), it.numpy())
    # more than 255 taps: the winner ids no longer fit in uint8
    x = _distinct(1, 2, 20, 20)
    m, t = pair("MaxPool2d", 16, stride=2, return_indices=True)
    run_both(m, t, x)
