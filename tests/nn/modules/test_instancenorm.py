"""nn.InstanceNorm1d/2d/3d against torch: batched and unbatched input, affine, running stats in
train and eval, reprs and state_dict keys, the num_features checks, shape errors; gradcheck of
F.instance_norm."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt

SHAPES = {"InstanceNorm1d": [(4, 3, 5), (3, 6)], "InstanceNorm2d": [(2, 3, 4, 5), (3, 4, 4)],
          "InstanceNorm3d": [(2, 3, 2, 3, 4)]}
CASES = [(n, s) for n, ss in SHAPES.items() for s in ss]


@pytest.mark.parametrize("name,shape", CASES)
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.3},
                                {"affine": True, "bias": False}])
def test_train_and_eval_match_torch(name, shape, kw):
    m, t = pair(name, 3, **kw)
    check_repr_and_state(m, t)
    for step in range(2):
        run_both(m, t, rand(*shape, seed=step) * 3 - 1, seed=step)
    m.eval()
    t.eval()
    run_both(m, t, rand(*shape, seed=5), seed=5)


def test_grad_fn_name_and_default_buffers():
    m = nn.InstanceNorm2d(3)
    assert m.running_mean is None and m.weight is None
    assert list(m.state_dict()) == []
    x = lamina.randn(2, 3, 4, 4, requires_grad=True)
    assert m(x).grad_fn is not None


def test_num_features_mismatch_warns_without_affine_and_raises_with_it():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(lamina.randn(2, 4, 5))
    net = nn.Sequential(nn.InstanceNorm2d(3, affine=True))
    with pytest.raises(ModuleInputError) as ei:
        net(lamina.randn(2, 4, 5, 5))
    assert str(ei.value) == (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=False) at '0' got input of shape (2, 4, 5, 5); expected "
        "(N, 3, H, W) or (3, H, W)")
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("name,shape,expected", [
    ("InstanceNorm1d", (3,), "(N, 3, L) or (3, L)"),
    ("InstanceNorm2d", (2, 3, 4, 5, 6), "(N, 3, H, W) or (3, H, W)"),
    ("InstanceNorm3d", (3, 4, 5), "(N, 3, D, H, W) or (3, D, H, W)"),
])
def test_rank_errors_name_the_layer(name, shape, expected):
    m = getattr(nn, name)(3)
    with pytest.raises(ValueError, match=r"got input of shape .*; expected " +
                       expected.replace("(", r"\(").replace(")", r"\)")):
        m(lamina.randn(*shape))


def test_old_checkpoint_with_running_stats_is_reported():
    m = nn.InstanceNorm1d(2)
    sd = {"running_mean": lamina.zeros(2), "running_var": lamina.ones(2)}
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        m.load_state_dict(sd)


def test_functional_instance_norm_matches_torch_and_gradchecks():
    x = rand(2, 3, 6)
    w, b = rand(3, seed=1), rand(3, seed=2)
    yl = nn.functional.instance_norm(lt(x), weight=lt(w), bias=lt(b), eps=1e-3)
    yt = torch.nn.functional.instance_norm(torch.from_numpy(x), weight=torch.from_numpy(w),
                                           bias=torch.from_numpy(b), eps=1e-3)
    assert_close(yl, yt)
    x64 = lt(rand(2, 2, 4, dtype=np.float64), requires_grad=True)
    w64 = lt(rand(2, seed=1, dtype=np.float64), requires_grad=True)
    b64 = lt(rand(2, seed=2, dtype=np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lamina.autograd.gradcheck(
            lambda a, c, d: nn.functional.instance_norm(a, weight=c, bias=d), (x64, w64, b64))
