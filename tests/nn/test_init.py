"""nn.init: exact values, torch-identical random streams, statistics, errors, deferred init.

PyTorch is the oracle: for the random initializers the same ``manual_seed`` (or the same
seeded ``Generator``) must give the same numbers; the tests say which ones are bit-identical
(``assert_array_equal``) and which only agree to float32 rounding (``orthogonal_``, whose QR
runs in a different LAPACK).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina._tensor import _init, _new
from lamina.nn import init

# ---------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _seeded():
    """Statistical checks run on a fixed stream: deterministic, never flaky."""
    lamina.manual_seed(20240601)


def npy(t):
    """A NumPy copy-free view of a torch or lamina tensor."""
    return t.detach().numpy()


def both_seeded(seed=0):
    torch.manual_seed(seed)
    lamina.manual_seed(seed)


def same_stream_after():
    """The generators are still in step: the next draws agree."""
    np.testing.assert_array_equal(npy(lamina.rand(5)), npy(torch.rand(5)))


def run_both(name, shape, *args, seed=0, **kwargs):
    both_seeded(seed)
    t = getattr(torch.nn.init, name)(torch.empty(shape), *args, **kwargs)
    lt = getattr(init, name)(lamina.empty(shape), *args, **kwargs)
    return npy(lt), npy(t)


# ---------------------------------------------------------------------------- catalogue


def test_public_names_match_torch():
    assert sorted(init.__all__) == sorted(torch.nn.init.__all__)
    for name in ("_calculate_fan_in_and_fan_out", "_calculate_correct_fan", "_no_grad_uniform_",
                 "_no_grad_normal_", "_no_grad_trunc_normal_", "_no_grad_fill_",
                 "_no_grad_zero_"):
        assert callable(getattr(init, name))
    assert nn.init is init


@pytest.mark.parametrize("name", [n for n in torch.nn.init.__all__ if n.endswith("_")])
def test_signatures_match_torch(name):
    import inspect

    mine = inspect.signature(getattr(init, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    assert list(mine) == list(theirs)
    for p in theirs:
        assert mine[p].default == theirs[p].default, p
        assert mine[p].kind == theirs[p].kind, p


# ---------------------------------------------------------------------------- calculate_gain


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh",
                                  "relu", "leaky_relu", "selu"])
def test_calculate_gain_matches_torch(name):
    got = init.calculate_gain(name)
    assert got == torch.nn.init.calculate_gain(name)
    assert type(got) is type(torch.nn.init.calculate_gain(name))


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("leaky_relu", 1) == 1.0  # an int slope is accepted
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == torch.nn.init.calculate_gain(
        "leaky_relu", math.sqrt(5))


@pytest.mark.parametrize("args, match", [(("foo",), "Unsupported nonlinearity foo"),
                                         (("leaky_relu", True), "not a valid number"),
                                         (("leaky_relu", "0.1"), "not a valid number")])
def test_calculate_gain_errors(args, match):
    with pytest.raises(ValueError, match=match):
        init.calculate_gain(*args)
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(*args)


# ---------------------------------------------------------------------------- fans


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (6, 2, 3, 5), (2, 3, 2, 2, 4), (3, 0)])
def test_fan_in_and_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(lamina.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for mode in ("fan_in", "fan_out", "FAN_IN", "Fan_Out"):
        assert init._calculate_correct_fan(lamina.empty(shape), mode) == \
            torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(lamina.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(lamina.tensor(1.0))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init._calculate_correct_fan(lamina.empty(3, 4), "fan_avg")


@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_])
def test_fan_based_initializers_refuse_1d(fn):
    w = lamina.zeros(7)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        fn(w)
    assert bool((w == 0).all())  # validated before anything was written


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_])
def test_kaiming_errors(fn):
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        fn(lamina.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        fn(lamina.empty(3, 4), nonlinearity="swish")


# ---------------------------------------------------------------------------- exact values


def test_constant_ones_zeros():
    w = lamina.empty(2, 3)
    assert init.constant_(w, 0.3) is w
    np.testing.assert_array_equal(npy(w), np.full((2, 3), 0.3, np.float32))
    np.testing.assert_array_equal(npy(init.ones_(w)), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(npy(init.zeros_(w)), np.zeros((2, 3), np.float32))
    i = lamina.empty(4, dtype=lamina.int64)
    np.testing.assert_array_equal(npy(init.constant_(i, 7)), [7, 7, 7, 7])


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (4, 4), (1, 5), (0, 3)])
def test_eye_matches_torch(shape):
    w = lamina.full(shape, 5.0)
    assert init.eye_(w) is w
    np.testing.assert_array_equal(npy(w), npy(torch.nn.init.eye_(torch.full(shape, 5.0))))
    np.testing.assert_array_equal(npy(w), np.eye(*shape, dtype=np.float32))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_eye_refuses_non_2d(shape):
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(lamina.empty(shape))


@pytest.mark.parametrize("shape, groups", [((3, 3, 3), 1), ((4, 2, 5), 1), ((2, 4, 3, 3), 1),
                                           ((6, 4, 3, 5), 2), ((6, 2, 3, 3, 3), 3),
                                           ((4, 4, 2, 2), 4), ((3, 16, 5, 5), 1),
                                           ((3, 24, 5, 5), 3), ((4, 1, 1), 2)])
def test_dirac_matches_torch(shape, groups):
    w = lamina.full(shape, 9.0)
    assert init.dirac_(w, groups) is w
    np.testing.assert_array_equal(npy(w), npy(torch.nn.init.dirac_(torch.full(shape, 9.0),
                                                                   groups)))


def test_dirac_is_identity_conv():
    w = init.dirac_(lamina.empty(4, 4, 3, 3))
    x = lamina.randn(2, 4, 6, 6)
    y = nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(npy(y), npy(x), rtol=0, atol=0)


def test_dirac_errors():
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(lamina.empty(3, 3))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(lamina.empty(1, 1, 1, 1, 1, 1))
    w = lamina.zeros(5, 2, 3)
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(w, groups=2)
    assert bool((w == 0).all())


# ---------------------------------------------------------------------------- torch's stream

BIT_IDENTICAL = [
    ("uniform_", (), {}),
    ("uniform_", (-0.3, 0.7), {}),
    ("uniform_", (), {"a": 2.0, "b": 5.0}),
    ("normal_", (), {}),
    ("normal_", (0.2, 3.0), {}),
    ("xavier_uniform_", (), {}),
    ("xavier_uniform_", (), {"gain": math.sqrt(2.0)}),
    ("xavier_normal_", (), {}),
    ("xavier_normal_", (0.5,), {}),
    ("kaiming_uniform_", (), {}),
    ("kaiming_uniform_", (math.sqrt(5),), {}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_uniform_", (0.1, "fan_in", "leaky_relu"), {}),
    ("kaiming_normal_", (), {}),
    ("kaiming_normal_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (0.2,), {"nonlinearity": "tanh"}),
    ("trunc_normal_", (), {}),                                 # wide window: normal + redraws
    ("trunc_normal_", (0.0, 0.02), {}),
    ("trunc_normal_", (1.0, 2.0, 0.0, 1.5), {}),
    ("trunc_normal_", (0.0, 1.0, 0.5, 0.8), {}),               # narrow window: rejection
    ("trunc_normal_", (0.0, 1.0, -0.2, 0.1), {}),
    ("trunc_normal_", (0.0, 0.02, -0.04, 0.04), {}),
]


@pytest.mark.parametrize("name, args, kwargs", BIT_IDENTICAL)
@pytest.mark.parametrize("shape", [(7, 5), (64, 33), (3, 130), (16, 8, 3, 3), (4, 2, 3, 5, 2)])
def test_bit_identical_to_torch(name, args, kwargs, shape):
    mine, theirs = run_both(name, shape, *args, **kwargs)
    np.testing.assert_array_equal(mine, theirs)
    same_stream_after()


@pytest.mark.parametrize("shape", [(7, 5), (64, 33), (3, 130), (50, 20), (300, 70)])
@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.9])
def test_sparse_bit_identical_to_torch(shape, sparsity):
    mine, theirs = run_both("sparse_", shape, sparsity, seed=3)
    np.testing.assert_array_equal(mine, theirs)
    same_stream_after()


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (64, 33), (3, 130), (16, 8, 3, 3)])
def test_orthogonal_close_to_torch(shape):
    # same normals drawn; the QR runs in another LAPACK (NumPy factors float32 in float64),
    # so Q agrees with torch's to float32 rounding, not to the bit
    mine, theirs = run_both("orthogonal_", shape, 1.5)
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=2e-6)
    same_stream_after()


def test_big_uniform_draws_match_torch():
    # more than 2**20 draws: the blocked path of the generator
    mine, theirs = run_both("xavier_uniform_", (1100, 1000), seed=5)
    np.testing.assert_array_equal(mine, theirs)
    mine, theirs = run_both("uniform_", (1100, 1000), 0.25, 1.5, seed=6)
    np.testing.assert_array_equal(mine, theirs)
    same_stream_after()


@pytest.mark.parametrize("name, args", [("uniform_", (-1.0, 2.0)), ("normal_", (0.0, 2.0)),
                                        ("xavier_uniform_", ()), ("xavier_normal_", ()),
                                        ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
                                        ("trunc_normal_", ()), ("sparse_", (0.3,))])
def test_generator_argument_matches_torch(name, args):
    both_seeded(99)
    tg = torch.Generator().manual_seed(7)
    lg = lamina.Generator().manual_seed(7)
    theirs = getattr(torch.nn.init, name)(torch.empty(40, 30), *args, generator=tg)
    mine = getattr(init, name)(lamina.empty(40, 30), *args, generator=lg)
    np.testing.assert_array_equal(npy(mine), npy(theirs))
    same_stream_after()
    # and the explicit generator, not the default one, gave the values
    lg2 = lamina.Generator().manual_seed(7)
    again = getattr(init, name)(lamina.empty(40, 30), *args, generator=lg2)
    if name != "sparse_":  # sparse_'s zero pattern comes from the default generator (as torch)
        np.testing.assert_array_equal(npy(again), npy(mine))


def test_generator_argument_orthogonal():
    lg = lamina.Generator().manual_seed(3)
    a = init.orthogonal_(lamina.empty(6, 4), generator=lg)
    b = init.orthogonal_(lamina.empty(6, 4), generator=lamina.Generator().manual_seed(3))
    np.testing.assert_array_equal(npy(a), npy(b))


# ---------------------------------------------------------------------------- statistics

STAT_SHAPES = [(1000, 800), (200, 100, 30), (64, 32, 7, 7), (16, 16, 5, 5, 5)]


def _fans(shape):
    r = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * r, shape[0] * r


@pytest.mark.parametrize("shape", STAT_SHAPES)
def test_xavier_statistics(shape):
    fan_in, fan_out = _fans(shape)
    std = 1.3 * math.sqrt(2.0 / (fan_in + fan_out))
    w = npy(init.xavier_uniform_(lamina.empty(shape), gain=1.3))
    bound = math.sqrt(3.0) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.02 * std
    w = npy(init.xavier_normal_(lamina.empty(shape), gain=1.3))
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.02 * std


@pytest.mark.parametrize("shape", STAT_SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", 0.2), ("tanh", 0)])
def test_kaiming_statistics(shape, mode, nonlinearity, a):
    fan = _fans(shape)[0 if mode == "fan_in" else 1]
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    w = npy(init.kaiming_uniform_(lamina.empty(shape), a=a, mode=mode,
                                  nonlinearity=nonlinearity))
    bound = math.sqrt(3.0) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() / std - 1) < 0.02
    w = npy(init.kaiming_normal_(lamina.empty(shape), a=a, mode=mode,
                                 nonlinearity=nonlinearity))
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.02 * std


def test_uniform_normal_statistics():
    w = npy(init.uniform_(lamina.empty(500_000), -2.0, 6.0))
    assert w.min() >= -2.0 and w.max() < 6.0
    assert abs(w.mean() - 2.0) < 0.02 and abs(w.std() - 8 / math.sqrt(12)) < 0.01
    w = npy(init.normal_(lamina.empty(500_000), 3.0, 0.5))
    assert abs(w.mean() - 3.0) < 0.005 and abs(w.std() - 0.5) < 0.005


def _truncnorm_moments(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2
    z = cdf(be) - cdf(al)
    m = mean + std * (pdf(al) - pdf(be)) / z
    var = std**2 * (1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0),
                                             (0.0, 1.0, 0.5, 0.8), (0.0, 0.02, -0.04, 0.04),
                                             (1.0, 1.0, 2.0, 5.0)])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    w = npy(init.trunc_normal_(lamina.empty(200_000), mean, std, a, b))
    assert w.min() >= np.float32(a) and w.max() <= np.float32(b)
    m, s = _truncnorm_moments(mean, std, a, b)
    assert abs(w.mean() - m) < 0.01 * (b - a)
    assert abs(w.std() / s - 1) < 0.02


def test_trunc_normal_warns_when_mean_far_outside():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        w = init.trunc_normal_(lamina.empty(100), mean=10.0, std=1.0, a=-2.0, b=2.0)
    assert float(w.min()) >= -2.0 and float(w.max()) <= 2.0


@pytest.mark.parametrize("shape", [(5, 12), (12, 5), (8, 8), (6, 2, 3, 3), (3, 4, 5)])
def test_orthogonal_rows_or_columns_orthonormal(shape):
    w = npy(init.orthogonal_(lamina.empty(shape), gain=2.0)).reshape(shape[0], -1) / 2.0
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=2e-6)


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(lamina.empty(5))
    e = lamina.empty(0, 3)
    assert init.orthogonal_(e) is e


def test_orthogonal_half_precision():
    w = init.orthogonal_(lamina.empty(6, 6, dtype=lamina.float16))
    assert w.dtype == lamina.float16
    m = npy(w).astype(np.float32)
    np.testing.assert_allclose(m @ m.T, np.eye(6), atol=5e-3)


@pytest.mark.parametrize("rows, cols, sparsity", [(100, 40, 0.1), (100, 40, 0.55), (7, 9, 0.3),
                                                  (10, 5, 1.0), (10, 5, 0.0)])
def test_sparse_column_sparsity(rows, cols, sparsity):
    w = npy(init.sparse_(lamina.empty(rows, cols), sparsity, std=0.5))
    zeros = (w == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, np.full(cols, math.ceil(sparsity * rows)))
    nz = w[w != 0]
    if nz.size > 500:
        assert abs(nz.std() / 0.5 - 1) < 0.1


def test_sparse_errors():
    for shape in [(5,), (2, 3, 4)]:
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            init.sparse_(lamina.empty(shape), 0.5)


def test_sparse_draws_randperms_like_torch():
    # the vectorized Fisher-Yates heads equal successive randperm calls
    lamina.manual_seed(4)
    heads = init._randperm_heads(37, 6, 9)
    lamina.manual_seed(4)
    ref = np.stack([npy(lamina.randperm(37))[:9] for _ in range(6)])
    np.testing.assert_array_equal(heads, ref)
    np.testing.assert_array_equal(npy(lamina.rand(3)), npy(_after_randperms(4, 37, 6)))


def _after_randperms(seed, n, count):
    torch.manual_seed(seed)
    for _ in range(count):
        torch.randperm(n)
    return torch.rand(3)


# ---------------------------------------------------------------------------- autograd


ALL_CALLS = [
    (init.uniform_, ()), (init.normal_, ()), (init.trunc_normal_, ()), (init.constant_, (0.5,)),
    (init.ones_, ()), (init.zeros_, ()), (init.eye_, ()), (init.xavier_uniform_, ()),
    (init.xavier_normal_, ()), (init.kaiming_uniform_, ()), (init.kaiming_normal_, ()),
    (init.orthogonal_, ()), (init.sparse_, (0.5,)),
]


@pytest.mark.parametrize("fn, args", ALL_CALLS, ids=[f.__name__ for f, _ in ALL_CALLS])
def test_on_parameter_outside_no_grad_records_nothing(fn, args):
    p = nn.Parameter(lamina.zeros(6, 4))
    v = p._version
    assert fn(p, *args) is p
    assert p.grad_fn is None and p.requires_grad and p.is_leaf
    assert p._version > v
    (p * 2).sum().backward()
    np.testing.assert_array_equal(npy(p.grad), np.full((6, 4), 2.0, np.float32))


def test_dirac_on_parameter_outside_no_grad():
    p = nn.Parameter(lamina.zeros(2, 2, 3, 3))
    assert init.dirac_(p) is p and p.grad_fn is None and p.requires_grad


def test_init_inside_graph_mode_keeps_grad_mode():
    assert lamina.is_grad_enabled()
    init.normal_(nn.Parameter(lamina.zeros(3, 3)))
    assert lamina.is_grad_enabled()


def test_on_a_view_writes_through():
    base = lamina.zeros(4, 6)
    init.constant_(base[1], 3.0)
    init.uniform_(base[2:], -1.0, 1.0)
    b = npy(base)
    assert (b[0] == 0).all() and (b[1] == 3).all() and (np.abs(b[2:]) <= 1).all()
    assert (b[2:] != 0).any()
    col = base[:, 0]  # not contiguous
    init.ones_(col)
    assert (npy(base)[:, 0] == 1).all()
    init.uniform_(base[:, 1], 5.0, 6.0)
    assert ((npy(base)[:, 1] >= 5) & (npy(base)[:, 1] < 6)).all()


def test_float64_and_float16():
    both_seeded(1)
    theirs = torch.nn.init.xavier_uniform_(torch.empty(30, 20, dtype=torch.float64))
    mine = init.xavier_uniform_(lamina.empty(30, 20, dtype=lamina.float64))
    np.testing.assert_array_equal(npy(mine), npy(theirs))
    theirs = torch.nn.init.kaiming_normal_(torch.empty(30, 20, dtype=torch.float16))
    mine = init.kaiming_normal_(lamina.empty(30, 20, dtype=lamina.float16))
    np.testing.assert_array_equal(npy(mine), npy(theirs))
    assert mine.dtype == lamina.float16


def test_uniform_refuses_integer_tensor_and_bad_range():
    with pytest.raises(RuntimeError):
        init.uniform_(lamina.zeros(3, dtype=lamina.int64))
    with pytest.raises(RuntimeError, match="from"):
        init.uniform_(lamina.zeros(3), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="std"):
        init.normal_(lamina.zeros(3), 0.0, -1.0)


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_])
def test_kaiming_zero_element_warns(fn):
    w = lamina.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert fn(w) is w


# ---------------------------------------------------------------------------- deprecated

DEPRECATED = ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
              "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]


@pytest.mark.parametrize("old", DEPRECATED)
def test_deprecated_aliases_warn_like_torch(old):
    args = {"constant": (0.5,), "sparse": (0.2,)}.get(old, ())
    shape = (3, 3, 3) if old == "dirac" else (4, 4)
    with pytest.warns(FutureWarning) as rec:
        out = getattr(init, old)(lamina.empty(shape), *args)
    with pytest.warns(FutureWarning) as trec:
        getattr(torch.nn.init, old)(torch.empty(shape), *args)
    assert str(rec[0].message) == str(trec[0].message)
    assert str(rec[0].message) == f"`nn.init.{old}` is now deprecated in favor of " \
                                  f"`nn.init.{old}_`."
    assert rec[0].filename == __file__  # points at the caller
    assert tuple(out.shape) == shape
    assert getattr(init, old).__name__ == old


def test_deprecated_alias_gives_same_values():
    lamina.manual_seed(2)
    with pytest.warns(FutureWarning):
        a = init.kaiming_normal(lamina.empty(5, 4), a=0, mode="fan_in")
    lamina.manual_seed(2)
    np.testing.assert_array_equal(npy(a), npy(init.kaiming_normal_(lamina.empty(5, 4))))


# ---------------------------------------------------------------------------- deferred init


class UninitializedDummy(lamina.Tensor):
    """A stand-in for lamina.nn.lazy's UninitializedParameter: records deferred calls."""

    def __init__(self):
        self.calls = []

    def _defer_init(self, fn, args, kwargs):
        self.calls.append((fn, args, kwargs))
        return self


def make_dummy():
    t = _new(UninitializedDummy)
    _init(t, lamina.empty(0)._data, lamina.device("cpu"), True)
    t.__init__()
    return t


DEFER_CALLS = [
    ("uniform_", (-0.5, 0.5), {}), ("normal_", (), {"std": 0.1}), ("trunc_normal_", (), {}),
    ("constant_", (0.5,), {}), ("ones_", (), {}), ("zeros_", (), {}), ("eye_", (), {}),
    ("dirac_", (), {}), ("xavier_uniform_", (), {"gain": 2.0}), ("xavier_normal_", (), {}),
    ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
    ("kaiming_normal_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("orthogonal_", (), {}), ("sparse_", (0.5,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", DEFER_CALLS)
def test_lazy_tensor_defers_every_initializer(name, args, kwargs):
    d = make_dummy()
    fn = getattr(init, name)
    assert fn(d, *args, **kwargs) is d
    assert d.calls == [(fn, args, kwargs)]
    assert d.numel() == 0  # nothing was drawn or written


def test_lazy_tensor_defer_records_in_order_and_replays():
    d = make_dummy()
    init.xavier_uniform_(d, gain=0.5)
    init.constant_(d, 1.25)
    init.normal_(d, 3.0, generator=None)
    assert [c[0] for c in d.calls] == [init.xavier_uniform_, init.constant_, init.normal_]
    # what the lazy side does at materialization: fn(param, *args, **kwargs), in order
    lamina.manual_seed(8)
    p = nn.Parameter(lamina.empty(4, 3))
    for fn, args, kwargs in d.calls[:2]:
        assert fn(p, *args, **kwargs) is p
    np.testing.assert_array_equal(npy(p), np.full((4, 3), 1.25, np.float32))
    lamina.manual_seed(8)
    q = nn.Parameter(lamina.empty(4, 3))
    init.xavier_uniform_(q, gain=0.5)
    fn, args, kwargs = d.calls[0]
    lamina.manual_seed(8)
    fn(p, *args, **kwargs)
    np.testing.assert_array_equal(npy(p), npy(q))


def test_lazy_tensor_bad_arguments_fail_at_the_call():
    d = make_dummy()
    with pytest.raises(TypeError):
        init.uniform_(d, 0.0, 1.0, None, 5)
    with pytest.raises(TypeError):
        init.normal_(d, stdd=3)
    assert d.calls == []


def test_deprecated_alias_defers_too():
    d = make_dummy()
    with pytest.warns(FutureWarning):
        assert init.xavier_uniform(d) is d
    assert d.calls == [(init.xavier_uniform_, (), {})]


def test_tensor_passed_by_keyword():
    w = lamina.empty(3, 4)
    assert init.constant_(tensor=w, val=2.0) is w
    assert bool((w == 2).all())
    d = make_dummy()
    assert init.constant_(tensor=d, val=2.0) is d
    assert d.calls == [(init.constant_, (), {"val": 2.0})]


# ---------------------------------------------------------------------------- default init


LAYERS = [
    ("Linear(20, 256)", lambda nn: nn.Linear(20, 256)),
    ("Linear(20, 3, bias=False)", lambda nn: nn.Linear(20, 3, bias=False)),
    ("Conv2d(3, 6, 5)", lambda nn: nn.Conv2d(3, 6, 5)),
    ("Conv2d(4, 6, 3, groups=2)", lambda nn: nn.Conv2d(4, 6, 3, groups=2)),
    ("Conv1d(4, 8, 3)", lambda nn: nn.Conv1d(4, 8, 3)),
    ("Conv3d(2, 4, 3)", lambda nn: nn.Conv3d(2, 4, 3)),
    ("ConvTranspose2d(4, 6, 3)", lambda nn: nn.ConvTranspose2d(4, 6, 3)),
    ("ConvTranspose2d(4, 6, 3, groups=2)", lambda nn: nn.ConvTranspose2d(4, 6, 3, groups=2)),
    ("ConvTranspose1d(3, 5, 4)", lambda nn: nn.ConvTranspose1d(3, 5, 4)),
    ("ConvTranspose3d(2, 3, 2)", lambda nn: nn.ConvTranspose3d(2, 3, 2)),
    ("Bilinear(5, 7, 3)", lambda nn: nn.Bilinear(5, 7, 3)),
    ("PReLU()", lambda nn: nn.PReLU()),
    ("PReLU(4, init=0.1)", lambda nn: nn.PReLU(4, init=0.1)),
    ("Embedding(10, 4, padding_idx=2)", lambda nn: nn.Embedding(10, 4, padding_idx=2)),
]


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=[i for i, _ in LAYERS])
def test_default_init_bit_identical_to_torch(make):
    both_seeded(0)
    theirs = make(torch.nn)
    mine = make(nn)
    t_params = dict(theirs.named_parameters())
    m_params = dict(mine.named_parameters())
    assert list(m_params) == list(t_params)
    for k, v in t_params.items():
        np.testing.assert_array_equal(npy(m_params[k]), npy(v), err_msg=k)
    same_stream_after()


def test_default_init_sequence_of_layers_matches_torch():
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Conv2d(6, 16, 5),
                             nn.Flatten(), nn.Linear(256, 120), nn.Linear(120, 84),
                             nn.Linear(84, 10))

    both_seeded(1234)
    theirs, mine = build(torch.nn), build(nn)
    for (k, a), (k2, b) in zip(theirs.state_dict().items(), mine.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(npy(b), npy(a), err_msg=k)


def test_reset_parameters_redraws_like_torch():
    both_seeded(5)
    t, m = torch.nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)
    t.reset_parameters()
    m.reset_parameters()
    np.testing.assert_array_equal(npy(m.weight), npy(t.weight))
    np.testing.assert_array_equal(npy(m.bias), npy(t.bias))
    assert m.weight.grad_fn is None and m.weight.requires_grad


def test_default_init_bounds_are_one_over_sqrt_fan_in():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = npy(m.weight), npy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    c = nn.Conv2d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert np.abs(npy(c.weight)).max() <= bound and np.abs(npy(c.bias)).max() <= bound


def test_zero_in_features_warns_like_torch():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        m = nn.Linear(0, 3)
    np.testing.assert_array_equal(npy(m.bias), np.zeros(3, np.float32))


def test_normalization_defaults():
    for cls in ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"):
        layer = getattr(nn, cls)(2, 4) if cls == "GroupNorm" else getattr(nn, cls)(4)
        assert bool((layer.weight == 1).all()) and bool((layer.bias == 0).all()), cls


def test_embedding_padding_row_zero_and_normal():
    e = nn.Embedding(20000, 16, padding_idx=3)
    w = npy(e.weight)
    assert (w[3] == 0).all()
    assert abs(w.std() - 1) < 0.01 and abs(w.mean()) < 0.01


# ---------------------------------------------------------------------------- seed patterns


def mlp(nn):
    return nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))


def test_apply_with_type_check_matches_torch():
    def init_weights(m, nn, init):
        if type(m) == nn.Linear:  # the seeds' own check
            init.normal_(m.weight, std=0.01)
            init.zeros_(m.bias)

    both_seeded(0)
    t = mlp(torch.nn)
    t.apply(lambda m: init_weights(m, torch.nn, torch.nn.init))
    m = mlp(nn)
    m.apply(lambda x: init_weights(x, nn, init))
    for (k, a), (_, b) in zip(t.named_parameters(), m.named_parameters()):
        np.testing.assert_array_equal(npy(b), npy(a), err_msg=k)
    assert bool((m[2].bias == 0).all())


def test_apply_with_isinstance_and_modules_loop():
    def build(nn):
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                             nn.Linear(8 * 4 * 4, 10))

    def loop(net, nn, init):
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                init.xavier_uniform_(m.weight)
                init.zeros_(m.bias)

    both_seeded(3)
    t, m = build(torch.nn), build(nn)
    loop(t, torch.nn, torch.nn.init)
    loop(m, nn, init)
    for (k, a), (_, b) in zip(t.state_dict().items(), m.state_dict().items()):
        np.testing.assert_array_equal(npy(b), npy(a), err_msg=k)
    assert m(lamina.randn(2, 3, 6, 6)).shape == (2, 10)


def test_data_uniform_with_to_keyword_and_mask():
    def weight_init(m, nn):
        if isinstance(m, nn.Linear):
            m.weight.data.uniform_(-10, to=10)
            m.weight.data *= m.weight.data.abs() >= 5

    both_seeded(0)
    t, m = mlp(torch.nn), mlp(nn)
    t.apply(lambda x: weight_init(x, torch.nn))
    m.apply(lambda x: weight_init(x, nn))
    np.testing.assert_array_equal(npy(m[0].weight), npy(t[0].weight))
    np.testing.assert_array_equal(npy(m[2].weight), npy(t[2].weight))
    w = npy(m[0].weight)
    assert ((w == 0) | ((np.abs(w) >= 5) & (np.abs(w) <= 10))).all()
    assert m[0].weight.dtype == lamina.float32 and m[0].weight.requires_grad


def test_data_rebind_and_item_assignment():
    net = mlp(nn)
    p = net[0].weight
    before = npy(p).copy()
    net[0].weight.data = net[0].weight.data + 1
    assert net[0].weight is p and p.requires_grad
    np.testing.assert_allclose(npy(p), before + 1)
    p.data[0, 0] = 42
    assert float(p[0, 0]) == 42.0 and p.grad_fn is None
    y = net(lamina.randn(2, 20)).sum()
    y.backward()
    assert p.grad.shape == p.shape


def test_params_init_helper_over_conv_linear_batchnorm():
    # seed 003's params_init(model, init, **kwargs), with nn.init functions as `init`
    def params_init(model, init, nn, **kwargs):  # the seed's helper, branch for branch
        def initializer(m):
            if isinstance(m, nn.Conv2d):
                init(m.weight.data, **kwargs)
                m.bias.data.fill_(0)
            elif isinstance(m, nn.Linear):
                init(m.weight.data, **kwargs)
                m.bias.data.fill_(0)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)
            elif isinstance(m, nn.BatchNorm1d):
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)

        model.apply(initializer)

    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                             nn.Linear(4 * 6 * 6, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))

    for fn, kwargs in [("normal_", {"std": 0.01}), ("xavier_uniform_", {"gain": 2.0}),
                       ("kaiming_normal_", {"mode": "fan_out"}), ("orthogonal_", {})]:
        both_seeded(11)
        t, m = build(torch.nn), build(nn)
        params_init(t, getattr(torch.nn.init, fn), torch.nn, **kwargs)
        params_init(m, getattr(init, fn), nn, **kwargs)
        for (k, a), (_, b) in zip(t.state_dict().items(), m.state_dict().items()):
            if fn == "orthogonal_":
                np.testing.assert_allclose(npy(b), npy(a), atol=2e-6, err_msg=k)
            else:
                np.testing.assert_array_equal(npy(b), npy(a), err_msg=f"{fn} {k}")
        assert bool((m[1].weight == 1).all()) and bool((m[4].bias == 0).all())
        assert m(lamina.rand(3, 1, 8, 8)).shape == (3, 3)


def test_no_warning_on_normal_construction():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Linear(3, 4)
        nn.Conv2d(2, 3, 3)
        nn.Bilinear(2, 3, 4)
