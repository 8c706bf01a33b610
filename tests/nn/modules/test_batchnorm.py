"""nn.BatchNorm1d/2d/3d against torch: train and eval forward/backward, running statistics and
num_batches_tracked (momentum and momentum=None), affine/bias/track_running_stats variants,
reprs, state_dict keys and version upgrade, shape errors; F.batch_norm gradcheck."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt, npy

SHAPES = {"BatchNorm1d": [(6, 3), (4, 3, 5)], "BatchNorm2d": [(4, 3, 5, 6)],
          "BatchNorm3d": [(2, 3, 3, 4, 2)]}
CASES = [(n, s) for n, ss in SHAPES.items() for s in ss]


@pytest.mark.parametrize("name,shape", CASES)
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None},
                                {"track_running_stats": False}, {"bias": False, "eps": 1e-3},
                                {"momentum": 0.3}])
def test_train_then_eval_matches_torch(name, shape, kw):
    m, t = pair(name, 3, **kw)
    check_repr_and_state(m, t)
    for step in range(3):  # running stats and num_batches_tracked accumulate
        run_both(m, t, rand(*shape, seed=step) * 2 + 1, seed=step)
    if m.track_running_stats:
        assert int(m.num_batches_tracked) == 3
    m.eval()
    t.eval()
    run_both(m, t, rand(*shape, seed=9), seed=9)
    # eval never touches the buffers
    if m.track_running_stats:
        assert int(m.num_batches_tracked) == 3


def test_momentum_none_is_cumulative_average():
    m = nn.BatchNorm1d(2, momentum=None)
    xs = [rand(8, 2, seed=i) + i for i in range(4)]
    for x in xs:
        m(lt(x))
    expect = np.mean([x.mean(0) for x in xs], axis=0)
    np.testing.assert_allclose(npy(m.running_mean), expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(m.running_var),
                               np.mean([x.var(0, ddof=1) for x in xs], axis=0), rtol=1e-5)


def test_grad_fn_and_defaults():
    m = nn.BatchNorm2d(4)
    assert npy(m.weight).tolist() == [1.0] * 4 and npy(m.bias).tolist() == [0.0] * 4
    assert npy(m.running_var).tolist() == [1.0] * 4
    assert m.num_batches_tracked.dtype == lamina.int64 and m.num_batches_tracked.ndim == 0
    y = m(lamina.randn(2, 4, 3, 3))
    assert y.grad_fn.name() == "NativeBatchNormBackward0"


def test_reset_running_stats_and_parameters():
    m = nn.BatchNorm1d(3)
    m(lamina.randn(5, 3) * 3 + 2)
    with lamina.no_grad():
        m.weight.mul_(2)
    m.reset_running_stats()
    assert npy(m.running_mean).tolist() == [0.0] * 3 and int(m.num_batches_tracked) == 0
    assert npy(m.weight).tolist() == [2.0] * 3
    m.reset_parameters()
    assert npy(m.weight).tolist() == [1.0] * 3


def test_eval_without_running_stats_uses_batch_statistics():
    m, t = pair("BatchNorm2d", 3, track_running_stats=False)
    m.eval()
    t.eval()
    run_both(m, t, rand(2, 3, 4, 4))


def test_dtype_float64_and_device_kwargs():
    m = nn.BatchNorm1d(3, dtype=lamina.float64)
    assert m.weight.dtype == lamina.float64 and m.running_mean.dtype == lamina.float64
    assert m.num_batches_tracked.dtype == lamina.int64
    y = m(lamina.randn(4, 3, dtype=lamina.float64))
    assert y.dtype == lamina.float64


def test_state_dict_roundtrip_with_torch_and_version_upgrade():
    t = torch.nn.BatchNorm2d(3)
    t(torch.randn(4, 3, 2, 2))
    m = nn.BatchNorm2d(3)
    sd = {k: lt(npy(v)) for k, v in t.state_dict().items()}
    m.load_state_dict(sd)
    assert_close(m.running_mean, t.running_mean)
    assert int(m.num_batches_tracked) == 1
    # a version-1 checkpoint has no num_batches_tracked: it is filled in, not reported missing
    old = OrderedDict((k, v) for k, v in sd.items() if k != "num_batches_tracked")
    old._metadata = {"": {"version": 1}}
    m2 = nn.BatchNorm2d(3)
    m2.load_state_dict(old)
    assert int(m2.num_batches_tracked) == 0


@pytest.mark.parametrize("name,shape,expected", [
    ("BatchNorm2d", (1, 1, 28, 28), "(N, 3, H, W)"),
    ("BatchNorm2d", (3, 28, 28), "(N, 3, H, W)"),
    ("BatchNorm1d", (2, 4), "(N, 3) or (N, 3, L)"),
    ("BatchNorm1d", (2, 3, 4, 5), "(N, 3) or (N, 3, L)"),
    ("BatchNorm3d", (2, 3, 4, 5), "(N, 3, D, H, W)"),
])
def test_shape_errors_name_the_layer_and_path(name, shape, expected):
    net = nn.Sequential(getattr(nn, name)(3))
    with pytest.raises(ModuleInputError) as ei:
        net(lamina.randn(*shape))
    msg = str(ei.value)
    assert msg == (f"{name}(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                   f"track_running_stats=True) at '0' got input of shape {shape}; "
                   f"expected {expected}")
    # torch raises ValueError for a wrong rank; lamina's error is one too
    assert isinstance(ei.value, ValueError)


def test_running_stats_not_updated_on_error():
    m = nn.BatchNorm2d(3)
    with pytest.raises(ValueError):
        m(lamina.randn(2, 4, 3, 3))
    assert int(m.num_batches_tracked) == 0


def test_functional_batch_norm_matches_torch_and_gradchecks():
    x = rand(4, 3, 5)
    w, b = rand(3, seed=1), rand(3, seed=2)
    rm, rv = rand(3, seed=3), np.abs(rand(3, seed=4)) + 0.5
    for training in (True, False):
        rml, rvl = lt(rm), lt(rv)
        rmt, rvt = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
        yl = nn.functional.batch_norm(lt(x), rml, rvl, lt(w), lt(b), training, 0.2, 1e-4)
        yt = torch.nn.functional.batch_norm(torch.from_numpy(x), rmt, rvt, torch.from_numpy(w),
                                            torch.from_numpy(b), training, 0.2, 1e-4)
        assert_close(yl, yt)
        assert_close(rml, rmt)
        assert_close(rvl, rvt)
    x64 = lt(rand(3, 2, 4, dtype=np.float64), requires_grad=True)
    w64 = lt(rand(2, seed=1, dtype=np.float64), requires_grad=True)
    b64 = lt(rand(2, seed=2, dtype=np.float64), requires_grad=True)
    assert lamina.autograd.gradcheck(
        lambda a, c, d: nn.functional.batch_norm(a, None, None, c, d, True), (x64, w64, b64))
    rm64 = lt(rand(2, dtype=np.float64))
    rv64 = lt(np.abs(rand(2, dtype=np.float64)) + 1)
    assert lamina.autograd.gradcheck(
        lambda a, c, d: nn.functional.batch_norm(a, rm64, rv64, c, d, False), (x64, w64, b64))
