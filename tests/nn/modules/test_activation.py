"""Activation modules: reprs equal to torch's for every argument combination, forward and
backward through the modules (inplace too), PReLU's parameter, softmax's implicit dim and
torch's constructor errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.oracle_helpers import assert_close, lt, npy, tt

# (class name, args, kwargs): built in both libraries
SPECS = [
    ("Threshold", (0.1, 20), {}), ("Threshold", (0.1, 20.0), {"inplace": True}),
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2, 2), {}),
    ("Hardtanh", (-2.0, 3.5, True), {}), ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Sigmoid", (), {}), ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("Tanh", (), {}), ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}),
    ("Mish", (True,), {}), ("Hardswish", (), {}), ("Hardswish", (True,), {}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("CELU", (), {}), ("CELU", (2.0,), {}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("GLU", (), {}), ("GLU", (0,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("Hardshrink", (), {}),
    ("Hardshrink", (1,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}),
    ("LeakyReLU", (0.2, True), {}), ("LogSigmoid", (), {}), ("Softplus", (), {}),
    ("Softplus", (2, 10), {}), ("Softshrink", (), {}), ("Softshrink", (1.5,), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("Softmin", (1,), {}), ("Softmax", (), {}),
    ("Softmax", (-1,), {}), ("Softmax2d", (), {}), ("LogSoftmax", (1,), {}),
]
IDS = [f"{n}{a}{k}" for n, a, k in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_repr_matches_torch(spec):
    name, args, kw = spec
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_forward_backward_match_torch(spec):
    name, args, kw = spec
    lm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    x = np.random.RandomState(0).standard_normal((2, 4, 3, 2)).astype(np.float32) * 3
    lx, tx = lt(x, True), tt(x, True)
    # inplace modules need a non-leaf input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, to = lm(lx * 1.0), tm(tx * 1.0)
    assert_close(lo, to)
    g = np.random.RandomState(1).standard_normal(tuple(to.shape)).astype(np.float32)
    lo.backward(lt(g))
    to.backward(tt(g))
    assert_close(lx.grad, tx.grad, atol=1e-5, rtol=1e-5)
    if name == "PReLU":
        assert_close(lm.weight.grad, tm.weight.grad, atol=1e-5, rtol=1e-5)


def test_inplace_modules_write_into_their_input():
    for m in (nn.ReLU(True), nn.LeakyReLU(0.1, True), nn.ELU(inplace=True), nn.SiLU(True),
              nn.Hardtanh(inplace=True), nn.Threshold(0.0, 1.0, True), nn.ReLU6(True)):
        x = lamina.randn(3, 4)
        assert m(x) is x
        assert x._version == 1


def test_inplace_on_a_leaf_that_requires_grad_raises_like_torch():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        torch.nn.ReLU(True)(torch.randn(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        nn.ReLU(True)(lamina.randn(3, requires_grad=True))


def test_prelu_parameter():
    m = nn.PReLU(3, init=0.3)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [("weight", (3,))]
    np.testing.assert_array_equal(npy(m.weight), np.full(3, 0.3, np.float32))
    assert m.num_parameters == 3
    m2 = nn.PReLU(dtype=lamina.float64)
    assert m2.weight.dtype == lamina.float64
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel"):
        m(lamina.randn(2, 4))


def test_softmax_implicit_dim_warns_and_picks_torchs_dim():
    for shape in ((5,), (2, 5), (2, 3, 4), (2, 3, 4, 5)):
        x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been "
                                             "deprecated"):
            lo = nn.Softmax()(lt(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to = torch.nn.Softmax()(tt(x))
        assert_close(lo, to)
    with pytest.warns(UserWarning, match="for log_softmax"):
        nn.LogSoftmax()(lamina.randn(2, 3))
    with pytest.warns(UserWarning, match="for softmin"):
        nn.Softmin()(lamina.randn(2, 3))


def test_softmax2d_rejects_wrong_rank():
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D "
                                         "instead"):
        nn.Softmax2d()(lamina.randn(2, 3))


def test_hardtanh_constructor_checks_and_deprecated_names():
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val "
                                             r"\(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        m = nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        nn.functional.hardtanh(lamina.randn(2), 2.0, 1.0)


def test_activations_in_a_model_train_like_torch():
    lamina.manual_seed(0)
    torch.manual_seed(0)
    acts = ("GELU", "SiLU", "Mish", "ELU", "Softplus", "Tanh", "Sigmoid", "LeakyReLU")
    ln = nn.Sequential(nn.Linear(4, 8), *[getattr(nn, a)() for a in acts], nn.Linear(8, 2))
    tn = torch.nn.Sequential(torch.nn.Linear(4, 8), *[getattr(torch.nn, a)() for a in acts],
                             torch.nn.Linear(8, 2))
    assert repr(ln) == repr(tn)
    x = np.random.RandomState(0).standard_normal((3, 4)).astype(np.float32)
    ln(lt(x)).pow(2).sum().backward()
    tn(tt(x)).pow(2).sum().backward()
    for (n, p), (_, q) in zip(ln.named_parameters(), tn.named_parameters()):
        assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=n)


@pytest.mark.parametrize("data", [-2.0, [[-1.0, 0.5], [3.0, -0.0]], [-3, 4]])
def test_relu_no_grad_shortcut_matches_the_recorded_op(data):
    # without a graph to record, ReLU computes directly: same values, dtype and 0-d-ness, a
    # tensor that owns a real array (never a NumPy scalar) and leaves its input alone
    x = lamina.tensor(data)
    before = x.clone()
    with lamina.no_grad():
        out = nn.ReLU()(x)
    if x.is_floating_point():  # the op that records a node
        ref = lamina.relu(x.detach().requires_grad_()).detach()
    else:
        ref = lamina.tensor(np.maximum(npy(x), 0))
    assert out.shape == ref.shape and out.dtype == ref.dtype == x.dtype
    assert isinstance(out._data, np.ndarray)
    np.testing.assert_array_equal(npy(out), npy(ref))
    np.testing.assert_array_equal(npy(x), npy(before))
    assert out.grad_fn is None and not out.requires_grad
    assert_close(out, torch.relu(torch.tensor(data)))


@pytest.mark.parametrize("call", ["module", "functional", "lamina"])
def test_relu_refuses_bool_on_every_path(call):
    """nn.ReLU, F.relu and lamina.relu are one path: torch's error for bool, grad or not."""
    fns = {"module": nn.ReLU(), "functional": nn.functional.relu, "lamina": lamina.relu}
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu") as e:
        torch.nn.ReLU()(torch.tensor([True, False]))
    for grad in (True, False):
        with lamina.set_grad_enabled(grad):
            with pytest.raises(RuntimeError, match=str(e.value)):
                fns[call](lamina.tensor([True, False]))


@pytest.mark.parametrize("mod", ["Sigmoid", "Tanh"])
def test_sigmoid_tanh_modules_are_the_functional(mod):
    for data in ([-1.0, 2.0], [1, 3], [True, False]):
        lo = getattr(nn, mod)()(lamina.tensor(data))
        to = getattr(torch.nn, mod)()(torch.tensor(data))
        assert lo.dtype == getattr(lamina, str(to.dtype).split(".")[1])
        assert_close(lo, to)


def test_relu_records_when_grad_is_needed():
    x = lamina.tensor([-1.0, 2.0], requires_grad=True)
    out = nn.ReLU()(x)
    assert out.grad_fn.name() == "ReluBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0.0, 1.0])
