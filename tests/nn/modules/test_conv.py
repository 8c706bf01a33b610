"""nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d against torch: every argument of the issue
(stride, padding int/tuple/'same'/'valid', dilation, groups incl. depthwise, bias, the four
padding modes, output_padding, output_size), batched and unbatched, forward and backward with
copied weights; default init bit for bit; reprs and state_dict keys; float64 gradchecks of the
functionals; shape errors that name the layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import lt, npy

SPATIAL = {1: (9,), 2: (7, 8), 3: (5, 4, 6)}

CONV_KW = [
    {},
    {"stride": 2},
    {"padding": 1, "bias": False},
    {"padding": "same", "dilation": 2},
    {"padding": "same"},
    {"padding": "valid", "stride": 1},
    {"dilation": 2, "stride": 2, "padding": 2},
    {"groups": 2},
    {"groups": 4, "padding": 1},  # depthwise (in_channels == groups)
    {"padding": 2, "padding_mode": "reflect"},
    {"padding": 1, "padding_mode": "replicate", "stride": 2},
    {"padding": 2, "padding_mode": "circular"},
    {"padding": "same", "padding_mode": "reflect"},
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", CONV_KW, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
                         or "default")
def test_conv_matches_torch(nd, kw):
    m, t = pair(f"Conv{nd}d", 4, 8, 3, **kw)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 4, *SPATIAL[nd]))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_unbatched_and_tuple_arguments(nd):
    k = (3, 2, 1)[:nd]
    s = (2, 1, 2)[:nd]
    p = (1, 0, 1)[:nd]
    m, t = pair(f"Conv{nd}d", 2, 3, k, stride=s, padding=p)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, *SPATIAL[nd]))


def test_conv_grad_fn_name_and_bias_free_grads():
    m = nn.Conv2d(2, 3, 3, bias=False)
    y = m(lamina.randn(1, 2, 5, 5))
    assert y.grad_fn.name() == "ConvolutionBackward0"
    y.sum().backward()
    assert m.weight.grad.shape == (3, 2, 3, 3)


@pytest.mark.parametrize("name,args", [("Conv1d", (3, 5, 4)), ("Conv2d", (6, 16, 5)),
                                       ("Conv3d", (2, 4, (3, 2, 1))),
                                       ("Conv2d", (4, 8, 3, 1, 1, 1, 2)),
                                       ("ConvTranspose2d", (6, 4, 3)),
                                       ("ConvTranspose1d", (4, 6, 3, 1, 0, 0, 2))])
def test_default_init_is_bit_identical_to_torch(name, args):
    lamina.manual_seed(5)
    torch.manual_seed(5)
    m, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    np.testing.assert_array_equal(npy(m.weight), npy(t.weight))
    np.testing.assert_array_equal(npy(m.bias), npy(t.bias))


CT_KW = [
    {},
    {"stride": 2},
    {"stride": 2, "output_padding": 1, "padding": 1},
    {"groups": 2, "dilation": 2},
    {"stride": 3, "padding": 2, "output_padding": 2, "bias": False},
    {"dilation": 2, "stride": 2, "output_padding": 1},
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", CT_KW, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
                         or "default")
def test_conv_transpose_matches_torch(nd, kw):
    m, t = pair(f"ConvTranspose{nd}d", 4, 6, 3, **kw)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 4, *(v // 2 + 1 for v in SPATIAL[nd])))


def test_conv_transpose_output_size_and_unbatched():
    m, t = pair("ConvTranspose2d", 4, 2, 3, stride=2, padding=1)
    x = rand(1, 4, 5, 6)
    for size in ([9, 11], [10, 12], (1, 2, 10, 11)):
        yl = m(lt(x), output_size=size)
        yt = t(torch.from_numpy(x), output_size=size)
        assert tuple(yl.shape) == tuple(yt.shape)
        np.testing.assert_allclose(npy(yl), npy(yt), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of"):
        m(lt(x), output_size=[20, 20])
    run_both(m, t, rand(4, 5, 6))


def test_conv_transpose_rejects_other_padding_modes():
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


@pytest.mark.parametrize("kw,err,match", [
    ({"groups": 0}, ValueError, "groups must be a positive integer"),
    ({"groups": 3}, ValueError, "in_channels must be divisible by groups"),
    ({"padding": "full"}, ValueError, "Invalid padding string"),
    ({"padding": "same", "stride": 2}, ValueError, "padding='same' is not supported"),
    ({"padding_mode": "mirror"}, ValueError, "padding_mode must be one of"),
])
def test_constructor_errors_match_torch(kw, err, match):
    with pytest.raises(err, match=match):
        nn.Conv2d(4, 6, 3, **kw)
    with pytest.raises(err):
        torch.nn.Conv2d(4, 6, 3, **kw)


def test_shape_error_names_layer_and_path():
    net = nn.Sequential()
    net.add_module("net", nn.Sequential(nn.Conv2d(3, 6, 5)))
    with pytest.raises(ModuleInputError) as ei:
        net(lamina.randn(1, 1, 28, 28))
    assert str(ei.value) == ("Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1)) at 'net.0' got "
                             "input of shape (1, 1, 28, 28); expected (N, 3, H, W) or (3, H, W)")
    with pytest.raises(ModuleInputError, match=r"expected \(N, 2, L\) or \(2, L\)"):
        nn.Conv1d(2, 4, 3)(lamina.randn(2, 2, 3, 3))
    with pytest.raises(ModuleInputError, match=r"expected \(N, 4, D, H, W\) or \(4, D, H, W\)"):
        nn.ConvTranspose3d(4, 2, 3)(lamina.randn(1, 2, 3, 3, 3))


def test_functional_conv_gradchecks():
    gc = lamina.autograd.gradcheck
    f64 = np.float64
    x = lt(rand(2, 4, 5, 4, dtype=f64), requires_grad=True)
    w = lt(rand(4, 2, 3, 2, seed=1, dtype=f64), requires_grad=True)
    b = lt(rand(4, seed=2, dtype=f64), requires_grad=True)
    assert gc(lambda a, c, d: nn.functional.conv2d(a, c, d, stride=(2, 1), padding=1,
                                                   dilation=(1, 2), groups=2), (x, w, b))
    x1 = lt(rand(1, 2, 7, dtype=f64), requires_grad=True)
    w1 = lt(rand(2, 3, 3, seed=3, dtype=f64), requires_grad=True)
    b1 = lt(rand(3, seed=4, dtype=f64), requires_grad=True)
    assert gc(lambda a, c, d: nn.functional.conv_transpose1d(a, c, d, stride=2, padding=1,
                                                             output_padding=1), (x1, w1, b1))
    x3 = lt(rand(1, 2, 3, 3, 3, dtype=f64), requires_grad=True)
    w3 = lt(rand(2, 1, 2, 2, 2, seed=5, dtype=f64), requires_grad=True)
    assert gc(lambda a, c: nn.functional.conv3d(a, c, padding="same", groups=2), (x3, w3))


def test_functional_conv_errors_match_torch_types():
    x = lamina.randn(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match="expected input"):
        nn.functional.conv2d(x, lamina.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        nn.functional.conv2d(x, lamina.randn(4, 3, 7, 7))
    with pytest.raises(RuntimeError, match="should be the same"):
        nn.functional.conv2d(x, lamina.randn(4, 3, 3, 3, dtype=lamina.float64))


def test_large_batch_is_chunked_and_still_matches(monkeypatch):
    from lamina.ops import conv as C

    monkeypatch.setattr(C, "COLS_BUDGET", 4096)  # forces several chunks
    monkeypatch.setattr(C, "SAVE_COLS_BYTES", 0)
    m, t = pair("Conv2d", 3, 4, 3, padding=1)
    run_both(m, t, rand(5, 3, 6, 6))
    m, t = pair("ConvTranspose2d", 3, 4, 3, stride=2)
    run_both(m, t, rand(5, 3, 4, 4))
