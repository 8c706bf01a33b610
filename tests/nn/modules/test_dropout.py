"""Dropout modules: identity in eval, masks bit-identical to torch's for the same seed (where
torch uses its default CPU kernel), statistics, gradients through the mask, reprs and
torch's argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.oracle_helpers import assert_close, lt, npy, tt


def _torch_uses_mkl_bernoulli() -> bool:
    """On Intel CPUs torch draws bernoulli_(p) through MKL (another stream): lamina follows
    ATen's default kernel, which torch uses everywhere else."""
    try:
        with open("/proc/cpuinfo") as f:
            intel = "GenuineIntel" in f.read(4096)
    except OSError:
        intel = False
    return intel and torch.backends.mkl.is_available()


same_stream = pytest.mark.skipif(_torch_uses_mkl_bernoulli(),
                                 reason="torch draws dropout masks with MKL on Intel CPUs")

X4 = np.random.RandomState(0).standard_normal((4, 6, 3, 2)).astype(np.float32)
SPECS = [("Dropout", X4), ("Dropout1d", X4[:, :, :, 0]), ("Dropout1d", X4[0, :, :, 0]),
         ("Dropout2d", X4), ("Dropout3d", X4), ("Dropout3d", X4[..., None]),
         ("AlphaDropout", X4), ("FeatureAlphaDropout", X4)]
IDS = [f"{n}-{x.ndim}d" for n, x in SPECS]


@same_stream
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("p", [0.3, 0.5])
def test_training_output_and_gradient_bit_identical_to_torch(spec, p):
    name, x = spec
    lm, tm = getattr(nn, name)(p), getattr(torch.nn, name)(p)
    lamina.manual_seed(11)
    torch.manual_seed(11)
    lx, tx = lt(x, True), tt(x, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, to = lm(lx), tm(tx)
    np.testing.assert_array_equal(npy(lo), npy(to))
    assert lo.grad_fn.name() == to.grad_fn.name()
    lo.sum().backward()
    to.sum().backward()
    np.testing.assert_array_equal(npy(lx.grad), npy(tx.grad))
    # the generator advanced by the same amount
    assert npy(lamina.rand(4)).tolist() == npy(torch.rand(4)).tolist()


@same_stream
def test_inplace_dropout_matches_torch():
    lamina.manual_seed(5)
    torch.manual_seed(5)
    lx, tx = lt(X4), tt(X4)
    assert nn.Dropout(0.4, inplace=True)(lx) is lx
    torch.nn.Dropout(0.4, inplace=True)(tx)
    np.testing.assert_array_equal(npy(lx), npy(tx))
    assert lx._version == 1


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d", "AlphaDropout",
                                  "FeatureAlphaDropout"])
def test_eval_mode_is_identity(name):
    m = getattr(nn, name)(0.5).eval()
    x = lt(X4)
    assert m(x) is x
    assert not m.training and m.train().training


def test_p_zero_and_p_one():
    x = lt(X4, True)
    assert nn.Dropout(0.0)(x) is x
    out = nn.Dropout(1.0)(x)
    assert not npy(out).any()
    out.sum().backward()
    assert not npy(x.grad).any()
    assert not npy(nn.AlphaDropout(1.0).train()(lt(X4))).any()


def test_dropout_statistics():
    lamina.manual_seed(0)
    x = lamina.ones(200, 500)
    out = npy(nn.Dropout(0.3)(x))
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    out2 = npy(nn.Dropout2d(0.5)(lamina.ones(100, 64, 3, 3)))
    per_channel = out2.reshape(100, 64, 9)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # whole channels
    assert abs((per_channel[..., 0] != 0).mean() - 0.5) < 0.03


def test_alpha_dropout_keeps_mean_and_variance():
    lamina.manual_seed(0)
    x = lamina.randn(400, 500)
    out = npy(nn.AlphaDropout(0.2)(x))
    assert abs(out.mean()) < 0.02
    assert abs(out.std() - 1.0) < 0.02


def test_repr_matches_torch():
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                 "FeatureAlphaDropout"):
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
        assert repr(getattr(nn, name)(0.1, True)) == repr(getattr(torch.nn, name)(0.1, True))


def test_invalid_probability_raises_like_torch():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, "
                                             f"but got {p}"):
            nn.Dropout(p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.functional.dropout(lamina.randn(3), p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            torch.nn.Dropout(p)


def test_feature_dropout_shape_errors_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        nn.Dropout1d()(lamina.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d"):
        nn.Dropout2d()(lamina.randn(2, 3))
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        nn.Dropout2d()(lamina.randn(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input"):
        nn.Dropout3d()(lamina.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in "
                                           "the input"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nn.Dropout2d()(lamina.randn(3))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        nn.functional.feature_alpha_dropout(lamina.randn(3), 0.5, True)


def test_dropout_in_a_model_trains_and_evaluates():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
    x = lamina.randn(16, 4)
    m.eval()
    a, b = m(x), m(x)
    assert_close(a, b)
    m.train()
    m(x).sum().backward()
    assert m[0].weight.grad is not None


@pytest.mark.parametrize("backend", ["device", "fake_cupy"])
def test_dropout_on_the_device(backend, request):
    if backend == "fake_cupy":
        request.getfixturevalue("fake_cupy")
        dev = lamina.device("cuda:0")
    else:
        dev = request.getfixturevalue("device")
    x = lamina.ones(64, 32, 2, 2, device=dev, requires_grad=True)
    for m in (nn.Dropout(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5)):
        out = m(x)
        assert out.device == dev
        out.sum().backward()
        assert x.grad.device == dev
        kept = npy(out) != npy(out).min() if isinstance(m, nn.AlphaDropout) else npy(out) != 0
        assert 0.35 < kept.mean() < 0.65
