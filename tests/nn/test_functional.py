"""lamina.nn.functional (the layers' part): torch's names, signatures and defaults, the inplace
variants, softmax's implicit dim, dropout's training flag, one_hot, and the composite functions
(softsign, tanhshrink, softmin, bilinear) against torch."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import lamina
import lamina.nn.functional as F
from tests.oracle_helpers import assert_close, lt, npy, tt

NAMES = [
    "linear", "bilinear", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "elu",
    "elu_", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "softplus", "softsign", "tanhshrink", "threshold", "threshold_",
    "softmax", "log_softmax", "softmin", "logsigmoid", "hardshrink", "softshrink", "glu",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "cosine_embedding_loss", "margin_ranking_loss", "gaussian_nll_loss", "poisson_nll_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "triplet_margin_loss",
    "hinge_embedding_loss", "multi_margin_loss", "cosine_similarity", "pairwise_distance",
    "normalize", "one_hot",
]


def _params(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(name):
    assert callable(getattr(F, name))
    theirs = _params(getattr(TF, name))
    if theirs is None:  # a C builtin in torch: no Python signature to compare
        return
    assert _params(getattr(F, name)) == theirs


X = np.random.RandomState(0).standard_normal((3, 4, 2)).astype(np.float32) * 2


@pytest.mark.parametrize("name,args", [
    ("relu", ()), ("relu6", ()), ("leaky_relu", (0.3,)), ("elu", (0.5,)), ("selu", ()),
    ("celu", (0.7,)), ("silu", ()), ("mish", ()), ("hardtanh", (-0.5, 0.5)),
    ("hardsigmoid", ()), ("hardswish", ()), ("threshold", (0.2, -1.0)),
])
def test_inplace_flag_matches_torch(name, args):
    lx, tx = lt(X, True), tt(X, True)
    ly, ty = lx * 1.0, tx * 1.0
    lo = getattr(F, name)(ly, *args, inplace=True)
    to = getattr(TF, name)(ty, *args, inplace=True)
    assert lo is ly
    assert_close(ly, ty)
    (lo * lo).sum().backward()
    (to * to).sum().backward()
    assert_close(lx.grad, tx.grad)
    # and the out-of-place call leaves its input alone
    x = lt(X)
    getattr(F, name)(x, *args)
    np.testing.assert_array_equal(npy(x), X)


def test_underscore_functions():
    for name, args in (("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)),
                       ("hardtanh_", ()), ("threshold_", (0.1, 2.0))):
        lx, tx = lt(X), tt(X)
        assert getattr(F, name)(lx, *args) is lx
        getattr(TF, name)(tx, *args)
        assert_close(lx, tx)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_family(name):
    lx, tx = lt(X, True), tt(X, True)
    for dim in (0, 1, -1):
        assert_close(getattr(F, name)(lx, dim), getattr(TF, name)(tx, dim))
    lo = getattr(F, name)(lx, dim=1, dtype=lamina.float64)
    to = getattr(TF, name)(tx, dim=1, dtype=torch.float64)
    assert lo.dtype == lamina.float64
    assert_close(lo, to)
    assert lo.grad_fn.name() == to.grad_fn.name()
    lo.sum().backward()
    to.sum().backward()
    assert_close(lx.grad, tx.grad, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", [(), (5,), (2, 5), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_softmax_dim_is_torchs_legacy_rule(shape):
    x = np.random.RandomState(1).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been "
                                         "deprecated. Change the call to include dim=X as an "
                                         "argument.") as rec:
        lo = F.softmax(lt(x))
    assert rec[0].filename == __file__  # attributed to the caller, as torch's stacklevel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to = TF.softmax(tt(x))
    assert_close(lo, to)


def test_composites_match_torch_and_node_names():
    for name in ("softsign", "tanhshrink", "logsigmoid", "sigmoid", "tanh"):
        lx, tx = lt(X, True), tt(X, True)
        lo, to = getattr(F, name)(lx), getattr(TF, name)(tx)
        assert_close(lo, to)
        assert lo.grad_fn.name() == to.grad_fn.name(), name
        lo.sum().backward()
        to.sum().backward()
        assert_close(lx.grad, tx.grad)


def test_glu_and_gelu_and_softplus_arguments():
    lx, tx = lt(X), tt(X)
    assert_close(F.glu(lx, 1), TF.glu(tx, 1))
    assert_close(F.glu(lx.reshape(3, 8)), TF.glu(tx.reshape(3, 8)))
    assert_close(F.gelu(lx, approximate="tanh"), TF.gelu(tx, approximate="tanh"))
    assert_close(F.softplus(lx, beta=3, threshold=2), TF.softplus(tx, beta=3, threshold=2))
    assert_close(F.hardshrink(lx, 1.0), TF.hardshrink(tx, 1.0))
    assert_close(F.softshrink(lx, 1.0), TF.softshrink(tx, 1.0))


def test_dropout_training_flag():
    x = lt(X)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.alpha_dropout(x, 0.5) is x  # torch's default: training=False
    assert F.feature_alpha_dropout(x, 0.5) is x
    lamina.manual_seed(0)
    out = npy(F.dropout(x, 0.5))  # default training=True
    assert ((out == 0) | np.isclose(out, 2 * X)).all() and (out == 0).any()


def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 4]], np.int64)
    for n in (-1, 6):
        lo, to = F.one_hot(lt(t), n), TF.one_hot(tt(t), n)
        assert lo.dtype == lamina.int64
        np.testing.assert_array_equal(npy(lo), npy(to))
    assert tuple(F.one_hot(lamina.zeros(0, dtype=lamina.int64), 3).shape) == (0, 3)
    for bad, msg in (([0, 2, 1], "Class values must be smaller than num_classes."),
                     ([0, -2, 1], "Class values must be non-negative.")):
        for f, conv in ((F.one_hot, lamina.tensor), (TF.one_hot, torch.tensor)):
            with pytest.raises(RuntimeError, match=msg):
                f(conv(bad), 2 if -2 not in bad else -1)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type "
                                           "LongTensor"):
        F.one_hot(lamina.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty "
                                           "tensor."):
        F.one_hot(lamina.zeros(0, dtype=lamina.int64))


def test_bilinear_functional_matches_torch():
    rng = np.random.RandomState(2)
    x1 = rng.standard_normal((4, 3)).astype(np.float32)
    x2 = rng.standard_normal((4, 2)).astype(np.float32)
    w = rng.standard_normal((5, 3, 2)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    ls = [lt(a, True) for a in (x1, x2, w, b)]
    ts = [tt(a, True) for a in (x1, x2, w, b)]
    lo, to = F.bilinear(*ls), TF.bilinear(*ts)
    assert_close(lo, to)
    assert lo.grad_fn.name() == to.grad_fn.name()
    lo.sum().backward()
    to.sum().backward()
    for a, c in zip(ls, ts):
        assert_close(a.grad, c.grad, atol=1e-5, rtol=1e-5)
    x64 = [lt(a.astype(np.float64), True) for a in (x1, x2, w, b)]
    assert lamina.autograd.gradcheck(F.bilinear, x64)


def test_normalize_out_argument():
    x = lt(X)
    out = lamina.empty(3, 4, 2)
    r = F.normalize(x, dim=2, out=out)
    assert r is out
    assert_close(out, TF.normalize(tt(X), dim=2))


def test_cross_entropy_via_functional_equals_module():
    x, t = lamina.randn(5, 3), lamina.tensor([0, 1, 2, 1, 0])
    assert_close(F.cross_entropy(x, t), lamina.nn.CrossEntropyLoss()(x, t))
    assert_close(F.cross_entropy(x, t), F.nll_loss(F.log_softmax(x, 1), t))


# ---------------------------------------------------------------- issue 13: shape arithmetic
@pytest.mark.parametrize("shape, pad", [
    ((2,), (-3, 1)), ((2,), (1, -3)), ((2,), (-3, 3)), ((2, 3), (-4, 0)),
    ((2, 3), (0, 0, -3, 0)), ((2, 3), (-2, -2)), ((2, 3), (0, 0, -2, -1)),
])
def test_constant_pad_cropping_more_than_the_input_raises_like_torch(shape, pad):
    with pytest.raises(RuntimeError):
        TF.pad(torch.zeros(shape), pad)
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        F.pad(lamina.zeros(shape), pad)


@pytest.mark.parametrize("shape, pad", [
    ((2,), (-2, 1)), ((2,), (-1, -1)), ((2,), (-2, 0)), ((2, 3), (-1, 2, 1, -2)),
])
def test_constant_pad_cropping_to_empty_then_padding_matches_torch(shape, pad):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    want = TF.pad(torch.from_numpy(x), pad, value=7.0).numpy()
    got = F.pad(lamina.from_numpy(x), pad, value=7.0)
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got._data, want)


_SHAPE_ERRORS = {
    "reflect_crop": lambda L: L.nn.functional.pad(L.zeros(1, 1, 2), (-3, 1), mode="reflect"),
    "replicate_crop": lambda L: L.nn.functional.pad(L.zeros(1, 1, 2), (-2, -2),
                                                    mode="replicate"),
    "conv1d_kernel_too_big": lambda L: L.nn.functional.conv1d(L.zeros(1, 1, 2),
                                                              L.zeros(1, 1, 3)),
    "conv2d_kernel_too_big": lambda L: L.nn.functional.conv2d(L.zeros(1, 1, 2, 2),
                                                              L.zeros(1, 1, 3, 3)),
    "conv1d_dilation": lambda L: L.nn.functional.conv1d(L.zeros(1, 1, 4), L.zeros(1, 1, 3),
                                                        dilation=2),
    "conv_transpose_negative_out": lambda L: L.nn.functional.conv_transpose1d(
        L.zeros(1, 1, 1), L.zeros(1, 1, 1), padding=2),
    "conv_stride0": lambda L: L.nn.functional.conv1d(L.zeros(1, 1, 4), L.zeros(1, 1, 2),
                                                     stride=0),
    "conv_negative_padding": lambda L: L.nn.functional.conv1d(L.zeros(1, 1, 4),
                                                              L.zeros(1, 1, 2), padding=-1),
    "max_pool_kernel_too_big": lambda L: L.nn.functional.max_pool2d(L.zeros(1, 1, 2, 2), 3),
    "avg_pool_kernel_too_big": lambda L: L.nn.functional.avg_pool1d(L.zeros(1, 1, 2), 3),
    "pool_padding_over_half": lambda L: L.nn.functional.max_pool1d(L.zeros(1, 1, 4), 2,
                                                                   padding=2),
    "pool_stride0": lambda L: L.nn.functional.max_pool1d(L.zeros(1, 1, 4), 2, stride=0),
    "lp_pool_kernel_too_big": lambda L: L.nn.functional.lp_pool1d(L.zeros(1, 1, 2), 2, 3),
    "unfold_kernel_too_big": lambda L: L.nn.functional.unfold(L.zeros(1, 1, 2, 2), 3),
    "fold_output_too_small": lambda L: L.nn.functional.fold(L.zeros(1, 9, 1), (2, 2), 3),
    "interpolate_size0": lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 4), size=0),
    "narrow_negative": lambda L: L.zeros(4).narrow(0, 2, -1),
}


@pytest.mark.parametrize("name", sorted(_SHAPE_ERRORS))
def test_shape_arithmetic_that_gives_no_valid_output_raises_like_torch(name):
    fn = _SHAPE_ERRORS[name]
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError):
        fn(lamina)
