"""The lazy layers: LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d, compared with torch's (repr before and after the first call, the
class they become, parameter and buffer names, shapes and seeded values, outputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError

# (name, constructor args, kwargs, input shape)
CASES = [
    ("LazyLinear", (7,), {}, (3, 5)),
    ("LazyLinear", (4,), {"bias": False}, (2, 3, 6)),
    ("LazyLinear", (4,), {}, (6,)),
    ("LazyConv1d", (4, 3), {}, (2, 3, 10)),
    ("LazyConv1d", (4, 3), {"padding": 1, "bias": False}, (3, 10)),
    ("LazyConv2d", (6, 3), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 9, 9)),
    ("LazyConv2d", (5, (2, 3)), {"dilation": 2, "padding_mode": "reflect", "padding": 2},
     (3, 8, 8)),
    ("LazyConv2d", (3, 3), {"padding": "same", "bias": False}, (1, 2, 5, 5)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2, "bias": False}, (2, 6, 5, 5)),
    ("LazyConvTranspose2d", (3, 2), {}, (2, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {"dilation": 2}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm1d", (), {"momentum": None, "affine": False}, (4, 3, 5)),
    ("LazyBatchNorm2d", (), {"bias": False}, (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6)),
    ("LazyInstanceNorm2d", (), {"affine": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {"track_running_stats": False}, (2, 3, 3, 3, 3)),
]


def make(name, args, kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(real_torch.nn, name)(*args, **kwargs)


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
def test_matches_torch_before_and_after_first_call(name, args, kwargs, shape):
    m, tm = make(name, args, kwargs)
    assert repr(m) == repr(tm)
    assert [(n, repr(p)) for n, p in m.named_parameters()] == \
        [(n, repr(p)) for n, p in tm.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert m.has_uninitialized_params() == tm.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    lamina.manual_seed(0)
    real_torch.manual_seed(0)
    y = m(lamina.from_numpy(x))
    ty = tm(real_torch.from_numpy(x))
    assert type(m) is getattr(nn, type(tm).__name__) and not name.startswith(type(m).__name__)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())  # same draws
    for (n, b), (_, tb) in zip(m.named_buffers(), tm.named_buffers()):
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-5, err_msg=n)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
def test_load_state_dict_finishes_the_layer_without_a_forward(name, args, kwargs, shape):
    src, _ = make(name, args, kwargs)
    x = lamina.randn(*shape)
    src(x)
    for t in src.parameters():
        with lamina.no_grad():
            t.add_(lamina.randn(*t.shape))
    lazy, _ = make(name, args, kwargs)
    params = list(lazy.parameters())
    lazy.load_state_dict(src.state_dict())
    assert type(lazy) is type(src) and repr(lazy) == repr(src)
    assert all(a is b for a, b in zip(lazy.parameters(), params))  # identity kept
    for (n, a), (_, b) in zip(lazy.state_dict().items(), src.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    lazy.eval()
    src.eval()
    np.testing.assert_allclose(lazy(x).detach().numpy(), src(x).detach().numpy(), rtol=1e-6)


def test_lazylinear_infers_only_the_last_dim():
    m = nn.LazyLinear(3)
    assert tuple(m(lamina.randn(2, 4, 5, 7)).shape) == (2, 4, 5, 3)
    assert m.in_features == 7 and tuple(m.weight.shape) == (3, 7)
    assert tuple(m(lamina.randn(7)).shape) == (3,)  # unbatched, any leading dims


def test_lazyconv_infers_only_the_channel_dim():
    m = nn.LazyConv2d(4, 3)
    assert tuple(m(lamina.randn(3, 8, 8)).shape) == (4, 6, 6)  # unbatched: dim 0
    assert m.in_channels == 3 and tuple(m.weight.shape) == (4, 3, 3, 3)
    assert tuple(m(lamina.randn(2, 3, 16, 10)).shape) == (2, 4, 14, 8)  # any spatial size


def test_lazyconv_bad_input_rank_and_groups():
    m = nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ModuleInputError, match=r"got input of shape \(2, 3\); expected "
                       r"\(N, C_in, H, W\) or \(C_in, H, W\)"):
        m(lamina.randn(2, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        m(lamina.randn(1, 3, 5, 5))
    assert type(m) is nn.LazyConv2d and m.has_uninitialized_params()  # unchanged
    assert tuple(m(lamina.randn(1, 4, 5, 5)).shape) == (1, 4, 3, 3)


def test_lazyconv_transposed_output_size_argument():
    m = nn.LazyConvTranspose2d(2, 3, stride=2)
    y = m(lamina.randn(1, 3, 4, 4), output_size=(10, 10))
    assert tuple(y.shape) == (1, 2, 10, 10) and type(m) is nn.ConvTranspose2d


def test_lazy_batchnorm_bad_rank_is_a_named_value_error():
    net = nn.Sequential(nn.LazyBatchNorm2d())
    with pytest.raises(ValueError, match=r"LazyBatchNorm2d.* at '0' got input of shape "
                       r"\(2, 3\); expected \(N, C, H, W\)"):
        net(lamina.randn(2, 3))


def test_lazy_instancenorm_unbatched_takes_the_channel_dim():
    # torch reads dim 1 of an unbatched input (the length); lamina the channel dim
    m = nn.LazyInstanceNorm1d()
    y = m(lamina.randn(3, 10))
    assert m.num_features == 3 and tuple(m.weight.shape) == (3,)
    assert tuple(y.shape) == (3, 10) and type(m) is nn.InstanceNorm1d


def test_lazy_instancenorm_without_tensors_still_learns_num_features():
    m = nn.LazyInstanceNorm2d(affine=False, track_running_stats=False)
    assert not m.has_uninitialized_params()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch keeps num_features=0 and warns at every call
        m(lamina.randn(2, 5, 4, 4))
        m(lamina.randn(2, 5, 4, 4))
    assert type(m) is nn.InstanceNorm2d and m.num_features == 5


def test_lazy_batchnorm_running_stats_after_first_training_call():
    m, tm = make("LazyBatchNorm1d", (), {})
    x = np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32)
    m(lamina.from_numpy(x))
    tm(real_torch.from_numpy(x))
    np.testing.assert_allclose(m.running_mean.numpy(), tm.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(m.running_var.numpy(), tm.running_var.numpy(), rtol=1e-5)
    assert int(m.num_batches_tracked) == 1
    assert type(m.running_mean) is lamina.Tensor


def test_factory_kwargs_dtype():
    m = nn.LazyConv1d(2, 3, dtype=lamina.float64)
    assert m.weight.dtype is lamina.float64
    m(lamina.randn(1, 2, 5, dtype=lamina.float64))
    assert m.weight.dtype is lamina.float64 and m.bias.dtype is lamina.float64
    bn = nn.LazyBatchNorm1d(dtype=lamina.float64)
    bn(lamina.randn(3, 2, dtype=lamina.float64))
    assert bn.running_mean.dtype is lamina.float64
    assert bn.num_batches_tracked.dtype is lamina.int64


def test_torch_paths():
    from lamina.nn.modules import lazy

    assert lazy.LazyModuleMixin is nn.LazyModuleMixin
    assert nn.modules.LazyLinear is nn.LazyLinear
    assert issubclass(nn.LazyLinear, nn.Linear) and issubclass(nn.LazyConv2d, nn.Conv2d)
    assert nn.LazyBatchNorm2d.cls_to_become is nn.BatchNorm2d
    assert nn.LazyInstanceNorm3d.cls_to_become is nn.InstanceNorm3d
