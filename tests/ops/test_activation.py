"""lamina/ops/activation.py: every activation op against torch (forward, backward, grad_fn
name), float64 finite-difference gradchecks, erf's accuracy, softmax's stability, error paths,
and the ops on a (fake) cuda device."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import lamina
import lamina.ops.activation as A
from tests.oracle_helpers import assert_close, lt, tt

W2 = np.array([0.1, 0.2, 0.3, 0.4], np.float32)

# name -> (lamina fn, torch fn); fn(m_or_ops, x) written per library
CASES = {
    "softmax1": (lambda x: A.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    "softmax0": (lambda x: A.softmax(x, 0), lambda x: torch.softmax(x, 0)),
    "softmax_neg": (lambda x: A.softmax(x, -1), lambda x: torch.softmax(x, -1)),
    "log_softmax1": (lambda x: A.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
    "log_softmax0": (lambda x: A.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0)),
    "leaky_relu": (lambda x: A.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "leaky_relu_default": (A.leaky_relu, TF.leaky_relu),
    "hardtanh": (lambda x: A.hardtanh(x, -0.5, 0.75), lambda x: TF.hardtanh(x, -0.5, 0.75)),
    "relu6": (lambda x: A.relu6(x * 4), lambda x: TF.relu6(x * 4)),
    "threshold": (lambda x: A.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0)),
    "elu": (lambda x: A.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "selu": (A.selu, TF.selu),
    "celu": (lambda x: A.celu(x, 0.6), lambda x: TF.celu(x, 0.6)),
    "gelu": (A.gelu, TF.gelu),
    "gelu_tanh": (lambda x: A.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (A.silu, TF.silu),
    "mish": (A.mish, TF.mish),
    "hardsigmoid": (lambda x: A.hardsigmoid(x * 4), lambda x: TF.hardsigmoid(x * 4)),
    "hardswish": (lambda x: A.hardswish(x * 4), lambda x: TF.hardswish(x * 4)),
    "softplus": (A.softplus, TF.softplus),
    "softplus_beta": (lambda x: A.softplus(x, 2.0, 1.5), lambda x: TF.softplus(x, 2.0, 1.5)),
    "logsigmoid": (A.logsigmoid, TF.logsigmoid),
    "hardshrink": (lambda x: A.hardshrink(x, 0.8), lambda x: TF.hardshrink(x, 0.8)),
    "softshrink": (lambda x: A.softshrink(x, 0.8), lambda x: TF.softshrink(x, 0.8)),
    "glu": (lambda x: A.glu(x, 1), lambda x: TF.glu(x, 1)),
    "glu0": (lambda x: A.glu(x, 0), lambda x: TF.glu(x, 0)),
    "erf": (A.erf, torch.erf),
    "prelu_channels": (lambda x: A.prelu(x.reshape(6, 4), lt(W2)),
                       lambda x: TF.prelu(x.reshape(6, 4), tt(W2))),
    "prelu_one": (lambda x: A.prelu(x, lt(W2[:1])), lambda x: TF.prelu(x, tt(W2[:1]))),
}


def _input(dtype=np.float32, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((4, 6)) * 2.5
    # values at the kinks of the piecewise ops
    x[0, :4] = [0.0, -0.8, 0.8, 0.3]
    return x.astype(dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_backward_and_node_name_match_torch(name):
    lf, tf = CASES[name]
    x = _input()
    lx, tx = lt(x, True), tt(x, True)
    lo, to = lf(lx), tf(tx)
    assert_close(lo, to)
    assert lo.grad_fn.name() == to.grad_fn.name()
    w = np.random.RandomState(1).standard_normal(tuple(to.shape)).astype(np.float32)
    (lo * lt(w)).sum().backward()
    (to * tt(w)).sum().backward()
    assert_close(lx.grad, tx.grad, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(name):
    lf, _ = CASES[name]
    x = _input(np.float64, seed=3)
    # keep finite differences away from the kinks of piecewise-linear ops
    for kink in (0.0, 0.3, 0.5, 0.75, 0.8, 1.5):
        x[np.abs(np.abs(x) - kink) < 1e-3] += 0.013
    if name.startswith("prelu"):
        w = lt(W2[: 4 if name == "prelu_channels" else 1].astype(np.float64), True)
        f = (lambda a, b: A.prelu(a.reshape(6, 4), b)) if name == "prelu_channels" else A.prelu
        assert lamina.autograd.gradcheck(f, (lt(x, True), w))
        return
    assert lamina.autograd.gradcheck(lf, (lt(x, True),))


def test_prelu_weight_gradient_matches_torch():
    x = _input().reshape(6, 4)
    lw, tw = lt(W2, True), tt(W2, True)
    A.prelu(lt(x), lw).sum().backward()
    TF.prelu(tt(x), tw).sum().backward()
    assert_close(lw.grad, tw.grad, atol=1e-5, rtol=1e-5)


def test_prelu_shapes_4d_and_1d():
    x = np.random.RandomState(2).standard_normal((2, 4, 3, 3)).astype(np.float32)
    assert_close(A.prelu(lt(x), lt(W2)), TF.prelu(tt(x), tt(W2)))
    v = x.reshape(-1)[:4]
    assert_close(A.prelu(lt(v), lt(W2[:1])), TF.prelu(tt(v), tt(W2[:1])))


def test_erf_is_float64_accurate():
    xs = np.concatenate([np.linspace(-7, 7, 4001), np.geomspace(1e-300, 1e-2, 50),
                         [0.0, 1.0, -1.0, 6.0, np.inf, -np.inf]])
    got = A.erf(lt(xs)).numpy()
    ref = np.array([math.erf(v) for v in xs])
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 5e-16
    assert np.isnan(A.erf(lt(np.array([np.nan]))).numpy()).all()


def test_erf_float32_matches_torch_and_int_promotes():
    x = np.linspace(-5, 5, 1001).astype(np.float32)
    np.testing.assert_allclose(A.erf(lt(x)).numpy(), torch.erf(tt(x)).numpy(), rtol=2e-7,
                               atol=1e-7)
    out = A.erf(lamina.tensor([0, 1]))
    assert out.dtype == lamina.float32


def _f32_ulps(a, b):
    """Distance in float32 units in the last place (0 between +0 and -0; nan with nan: 0)."""
    ia = np.asarray(a, np.float32).view(np.int32).astype(np.int64)
    ib = np.asarray(b, np.float32).view(np.int32).astype(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    d = np.abs(ia - ib)
    return np.where(np.isnan(a) & np.isnan(b), 0, d)


def _f32_sweep():
    """A dense float32 sweep: every 127th float32 in [2^-20, 4] (the range where float32 erf
    is not +-1 nor x * 2/sqrt(pi) rounded), a fine grid to 12, tiny and subnormal arguments,
    huge ones, both signs, and +-0, +-inf, nan."""
    lo, hi = np.float32(2.0 ** -20).view(np.int32), np.float32(4.0).view(np.int32)
    x = np.concatenate([
        np.arange(lo, hi + 1, 127, dtype=np.int32).view(np.float32),
        np.linspace(0, 12, 200_001, dtype=np.float32),
        np.geomspace(1e-45, 1e-6, 2_000).astype(np.float32),
        np.geomspace(4, 3e38, 2_000).astype(np.float32),
        np.array([0.0, np.inf, np.finfo(np.float32).max, np.finfo(np.float32).tiny,
                  np.float32(1.4e-45)], np.float32)])
    return np.concatenate([x, -x, np.array([np.nan], np.float32)])


def test_erf_float32_is_within_one_ulp_of_correctly_rounded_and_of_torch():
    x = _f32_sweep()
    got = A.erf(lt(x)).numpy()
    assert got.dtype == np.float32
    exact = A.erf(lt(x.astype(np.float64))).numpy()  # the float64 series, error 2.3e-16
    assert _f32_ulps(got, exact.astype(np.float32)).max() <= 1
    assert _f32_ulps(got, torch.erf(tt(x)).numpy()).max() <= 2  # measured: 1
    assert (np.signbit(got) == np.signbit(x)).all()  # erf(-0) = -0, erf(-tiny) < 0
    np.testing.assert_array_equal(got[np.abs(x) >= 3.93], np.sign(x[np.abs(x) >= 3.93]))
    assert np.isnan(got[np.isnan(x)]).all()


def test_gelu_float32_sweep_within_two_ulp():
    """float32 GELU is torch's formula x * 0.5 * (1 + erf(x * sqrt(1/2))), each step rounded
    to float32. Against that formula with a correctly rounded erf: within 2 ulp, or 3e-7
    where 1 + erf cancels (x < -2, results near 0: one ulp of erf near -1 is 6e-8 * |x| / 2).
    Against torch's cpu GELU too, which uses its own erf approximation (absolute error up to
    ~1.5e-7, unlike torch.erf): the same bound except a few points near x = 2, where torch's
    result is itself 3 ulp from the formula."""
    x = _f32_sweep()
    with np.errstate(invalid="ignore", over="ignore"):  # gelu(-inf) = -inf * 0 = nan
        got = A.gelu(lt(x)).numpy()
        assert got.dtype == np.float32
        e = A.erf(lt((x * np.float32(math.sqrt(0.5))).astype(np.float64))).numpy()
        one = np.float32(1) + e.astype(np.float32)
        ref = x * (np.float32(0.5) * one)
        close = (_f32_ulps(got, ref) <= 2) | (np.abs(got.astype(np.float64) - ref) <= 3e-7)
        assert close[~np.isnan(ref)].all()
        assert np.isnan(got[np.isnan(ref)]).all()
        theirs = TF.gelu(tt(x)).numpy()
        dist = _f32_ulps(got, theirs)
        diff = np.abs(got.astype(np.float64) - theirs)
    near = (dist <= 2) | (diff <= 3e-7)
    assert (~near).sum() <= 1e-5 * x.size and diff[~near].max(initial=0) <= 4.5e-7
    assert (np.signbit(got[x == 0]) == np.signbit(x[x == 0])).all()


def test_gelu_float32_gradient_sweep_matches_torch():
    x = _f32_sweep()
    x = x[np.isfinite(x) & (np.abs(x) < 20)]
    g = np.random.RandomState(3).standard_normal(x.shape).astype(np.float32)
    lx, tx = lt(x).requires_grad_(), tt(x).requires_grad_()
    A.gelu(lx).backward(lt(g))
    TF.gelu(tx).backward(tt(g))
    assert lx.grad.dtype == lamina.float32
    assert_close(lx.grad, tx.grad, rtol=1e-5, atol=2e-6)


def test_gelu_float64_and_scalars():
    x = np.linspace(-7, 7, 2001)
    assert_close(A.gelu(lt(x)), TF.gelu(tt(x)), rtol=1e-14, atol=1e-15)
    for dt in (lamina.float32, lamina.float64):  # 0-d inputs, both erf branches
        for v in (3.0, -0.2):
            a = lamina.tensor(v, dtype=dt, requires_grad=True)
            b = torch.tensor(v, dtype=getattr(torch, str(dt).split(".")[-1]), requires_grad=True)
            ya, yb = A.gelu(a), TF.gelu(b)
            ya.backward()
            yb.backward()
            assert_close(ya, yb)
            assert_close(a.grad, b.grad)
            assert_close(A.erf(a.detach()), torch.erf(b.detach()))


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]], np.float32)
    assert_close(A.softmax(lt(x), 1), torch.softmax(tt(x), 1))
    assert_close(A.log_softmax(lt(x), 1), torch.log_softmax(tt(x), 1))
    assert np.isfinite(A.log_softmax(lt(x), 1).numpy()).all()


def test_softmax_dtype_argument_and_0d_and_empty():
    x = _input()
    out = A.softmax(lt(x), 1, dtype=lamina.float64)
    assert out.dtype == lamina.float64
    assert_close(out, torch.softmax(tt(x), 1, dtype=torch.float64))
    assert A.softmax(lamina.tensor(3.0), 0).item() == 1.0
    assert A.log_softmax(lamina.tensor(3.0), -1).item() == 0.0
    assert tuple(A.softmax(lamina.zeros(0, 3), 1).shape) == (0, 3)


def test_softmax_errors():
    with pytest.raises(IndexError):
        A.softmax(lamina.zeros(2, 3), 2)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        A.softmax(lamina.tensor([1, 2]), 0)


def test_tensor_methods_use_the_fused_ops():
    # the declared Tensor methods (ops/_registry.py) are what lamina/__init__.py binds
    from lamina.ops._registry import METHODS

    x = lamina.randn(3, 4, requires_grad=True)
    assert lamina.Tensor.softmax is METHODS["softmax"]
    assert x.softmax(1).grad_fn.name() == "SoftmaxBackward0"
    assert x.log_softmax(dim=-1).grad_fn.name() == "LogSoftmaxBackward0"
    assert x.softmax(1, lamina.float64).dtype == lamina.float64
    assert lamina.selu is A.selu and lamina.erf_ is A.erf_


def test_error_messages_match_torch():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                           "is size 3"):
        A.glu(lamina.zeros(2, 3), 1)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        A.glu(lamina.tensor(1.0))
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        A.softshrink(lamina.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        A.gelu(lamina.zeros(2), "fast")
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 3 and channel "
                                           "size = 4."):
        A.prelu(lamina.zeros(2, 4), lamina.ones(3))
    with pytest.raises(RuntimeError, match="Type promoting not supported"):
        A.prelu(lamina.zeros(2, 4), lamina.ones(4, dtype=lamina.float64))
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        A.gelu(lamina.tensor([1, 2]))


@pytest.mark.parametrize("name,fn,tfn", [
    ("elu_", lambda x: A.elu_(x, 0.5), lambda x: torch.nn.functional.elu_(x, 0.5)),
    ("selu_", A.selu_, torch.selu_),
    ("leaky_relu_", lambda x: A.leaky_relu_(x, 0.3), lambda x: TF.leaky_relu_(x, 0.3)),
    ("hardtanh_", A.hardtanh_, TF.hardtanh_),
    ("threshold_", lambda x: A.threshold_(x, 0.1, 5.0), lambda x: TF.threshold_(x, 0.1, 5.0)),
])
def test_inplace_variants_write_into_the_input(name, fn, tfn):
    x = _input()
    lx, tx = lt(x), tt(x)
    r = fn(lx)
    tfn(tx)
    assert r is lx
    assert lx._version == 1
    assert_close(lx, tx)


def test_inplace_on_a_non_leaf_records_the_gradient():
    x = _input()
    lx, tx = lt(x, True), tt(x, True)
    ly = A.elu_(lx * 1.0, 0.5)
    ty = TF.elu_(tx * 1.0, 0.5)
    (ly * ly).sum().backward()
    (ty * ty).sum().backward()
    assert_close(lx.grad, tx.grad)


def _host(t):
    a = t.detach()._data
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _on(dev):
    x = _input()
    rows = []
    for name in sorted(CASES):
        if name.startswith("prelu"):
            continue
        xs = lamina.from_numpy(x.copy()).to(dev).requires_grad_()
        out = CASES[name][0](xs)
        out.sum().backward()
        rows.append((name, out, xs.grad))
    return rows


@pytest.mark.parametrize("backend", ["device", "fake_cupy"])
def test_activations_run_on_the_device(backend, request):
    if backend == "fake_cupy":
        request.getfixturevalue("fake_cupy")
        dev = lamina.device("cuda:0")
    else:
        dev = request.getfixturevalue("device")
    for (name, o, g), (_, ro, rg) in zip(_on(dev), _on(lamina.device("cpu"))):
        assert o.device == dev, name
        np.testing.assert_allclose(_host(o), _host(ro), rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(_host(g), _host(rg), rtol=1e-5, atol=1e-6, err_msg=name)
