"""nn.Identity, nn.Linear, nn.Bilinear: torch's init bit for bit (same seed, same generator),
forward/backward parity with copied weights, grad_fn names, reprs and shape errors that name
the layer and its path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import ModuleInputError
from tests.oracle_helpers import assert_close, lt, npy, tt


def _copy(dst, src):
    """torch module -> lamina module, parameter by parameter (through NumPy)."""
    with lamina.no_grad():
        for (n, p), (m, q) in zip(dst.named_parameters(), src.named_parameters()):
            assert n == m
            p.copy_(lt(npy(q)))


def test_default_init_is_bit_identical_to_torch():
    lamina.manual_seed(0)
    torch.manual_seed(0)
    a, b = nn.Linear(20, 256), torch.nn.Linear(20, 256)
    np.testing.assert_array_equal(npy(a.weight), npy(b.weight))
    np.testing.assert_array_equal(npy(a.bias), npy(b.bias))
    # the stream continues in the same place: the next layer matches too
    c, d = nn.Linear(256, 10), torch.nn.Linear(256, 10)
    np.testing.assert_array_equal(npy(c.weight), npy(d.weight))
    np.testing.assert_array_equal(npy(c.bias), npy(d.bias))


@pytest.mark.parametrize("shape", [(784, 256), (3, 7), (1, 1), (1000, 3)])
def test_init_matches_torch_for_other_shapes(shape):
    lamina.manual_seed(7)
    torch.manual_seed(7)
    a, b = nn.Linear(*shape), torch.nn.Linear(*shape)
    np.testing.assert_array_equal(npy(a.weight), npy(b.weight))
    np.testing.assert_array_equal(npy(a.bias), npy(b.bias))
    bound = 1 / np.sqrt(shape[0])
    assert np.abs(npy(a.weight)).max() <= bound


def test_sequential_init_and_state_dict_match_torch():
    lamina.manual_seed(3)
    torch.manual_seed(3)
    a = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))
    b = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                            torch.nn.Linear(8, 2, bias=False))
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        np.testing.assert_array_equal(npy(sa[k]), npy(sb[k]))


def test_reset_parameters_redraws():
    m = nn.Linear(5, 3)
    w0 = npy(m.weight)
    lamina.manual_seed(1)
    m.reset_parameters()
    w1 = npy(m.weight)
    lamina.manual_seed(1)
    m.reset_parameters()
    np.testing.assert_array_equal(w1, npy(m.weight))
    assert not np.array_equal(w0, w1)
    assert m.weight.grad_fn is None and m.weight.requires_grad


@pytest.mark.parametrize("shape,bias,node", [
    ((4, 6), True, "AddmmBackward0"), ((4, 6), False, "MmBackward0"),
    ((6,), True, "ViewBackward0"), ((2, 3, 6), True, "ViewBackward0"),
    ((2, 3, 6), False, "UnsafeViewBackward0"), ((2, 1, 3, 6), True, "ViewBackward0"),
    ((6,), False, "SqueezeBackward4"),
])
def test_forward_backward_match_torch(shape, bias, node):
    tm = torch.nn.Linear(6, 5, bias=bias)
    lm = nn.Linear(6, 5, bias=bias)
    _copy(lm, tm)
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    lx, tx = lt(x, True), tt(x, True)
    lo, to = lm(lx), tm(tx)
    assert_close(lo, to)
    assert lo.grad_fn.name() == to.grad_fn.name() == node
    g = np.random.RandomState(1).standard_normal(tuple(to.shape)).astype(np.float32)
    lo.backward(lt(g))
    to.backward(tt(g))
    assert_close(lx.grad, tx.grad)
    assert_close(lm.weight.grad, tm.weight.grad)
    if bias:
        assert_close(lm.bias.grad, tm.bias.grad)
    else:
        assert lm.bias is None


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape,transposed", [
    ((6,), False), ((4, 6), False), ((2, 3, 6), False), ((2, 1, 3, 6), False),
    ((6, 4), True), ((2, 6, 3), True), ((2, 1, 6, 3), True),  # not contiguous
])
def test_module_and_functional_name_torch_node(shape, transposed, bias):
    """nn.Linear and F.linear are one path: both end in torch's node, contiguous or not
    (torch's linear of a non-contiguous N-D input with a bias is matmul + add)."""
    tm = torch.nn.Linear(6, 5, bias=bias)
    lm = nn.Linear(6, 5, bias=bias)
    _copy(lm, tm)
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    lx, tx = lt(x, True), tt(x, True)
    if transposed:
        lx, tx = lx.transpose(-1, -2), tx.transpose(-1, -2)
    assert lx.is_contiguous() == tx.is_contiguous() == (not transposed)
    node = tm(tx).grad_fn.name()
    assert torch.nn.functional.linear(tx, tm.weight, tm.bias).grad_fn.name() == node
    lo, fo = lm(lx), nn.functional.linear(lx, lm.weight, lm.bias)
    assert lo.grad_fn.name() == fo.grad_fn.name() == node
    assert_close(lo, tm(tx))
    assert_close(fo, tm(tx))
    fo.sum().backward()
    tm(tx).sum().backward()
    assert_close(lm.weight.grad, tm.weight.grad)


def test_linear_is_one_node():
    m = nn.Linear(3, 2)
    out = m(lamina.randn(4, 3, requires_grad=True))
    edges = out.grad_fn.next_functions
    assert len(edges) == 3
    assert edges[1][0].variable is m.weight and edges[2][0].variable is m.bias


def test_functional_linear_matches_module():
    m = nn.Linear(3, 2)
    x = lamina.randn(4, 3)
    assert_close(nn.functional.linear(x, m.weight, m.bias), m(x))


def test_float64_parameters_and_gradcheck():
    m = nn.Linear(3, 2, dtype=lamina.float64)
    assert m.weight.dtype == lamina.float64 and m.bias.dtype == lamina.float64
    x = lamina.randn(4, 3, dtype=lamina.float64, requires_grad=True)
    assert lamina.autograd.gradcheck(lambda a, w, b: nn.functional.linear(a, w, b),
                                     (x, m.weight, m.bias))


def test_repr_matches_torch():
    assert repr(nn.Linear(20, 30)) == repr(torch.nn.Linear(20, 30))
    assert repr(nn.Linear(2, 3, bias=False)) == repr(torch.nn.Linear(2, 3, bias=False))
    assert repr(nn.Bilinear(3, 4, 5)) == repr(torch.nn.Bilinear(3, 4, 5))
    assert repr(nn.Identity(54, unused="x")) == repr(torch.nn.Identity(54, unused="x"))
    net = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
    tnet = torch.nn.Sequential(torch.nn.Linear(20, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))
    assert repr(net) == repr(tnet)


def test_parameter_names_and_shapes_match_torch():
    for cls, args in ((nn.Linear, (3, 2)), (nn.Bilinear, (3, 4, 2))):
        a, b = cls(*args), getattr(torch.nn, cls.__name__)(*args)
        assert [(n, tuple(p.shape)) for n, p in a.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in b.named_parameters()]
    m = nn.Linear(3, 2, bias=False)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.in_features == 3 and m.out_features == 2


def test_shape_error_names_the_layer():
    m = nn.Linear(256, 10)
    with pytest.raises(RuntimeError) as e:
        m(lamina.randn(2, 128))
    assert str(e.value) == ("Linear(in_features=256, out_features=10, bias=True) got input of "
                            "shape (2, 128); expected (*, 256)")
    assert isinstance(e.value, ModuleInputError)


def test_shape_error_names_the_path_inside_a_model():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(20, 128), nn.ReLU(), nn.Linear(256, 10))

        def forward(self, x):
            return self.net(x)

    with pytest.raises(RuntimeError) as e:
        Model()(lamina.randn(2, 20))
    assert str(e.value) == ("Linear(in_features=256, out_features=10, bias=True) at 'net.2' "
                            "got input of shape (2, 128); expected (*, 256)")


def test_other_input_errors():
    m = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="got input of shape \\(\\); expected \\(\\*, 3\\)"):
        m(lamina.tensor(1.0))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        m(lamina.randn(2, 3, dtype=lamina.float64))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        torch.nn.Linear(3, 2)(torch.randn(2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="must be Tensor, not ndarray"):
        m(np.zeros((2, 3), np.float32))


def test_no_grad_inference_builds_no_graph():
    m = nn.Linear(3, 2)
    with lamina.no_grad():
        out = m(lamina.randn(4, 3))
    assert out.grad_fn is None and not out.requires_grad


def test_identity_returns_its_input():
    x = lamina.randn(3)
    assert nn.Identity()(x) is x
    assert list(nn.Identity(1, 2, a=3).parameters()) == []


def test_bilinear_init_is_bit_identical_to_torch():
    lamina.manual_seed(2)
    torch.manual_seed(2)
    a, b = nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    np.testing.assert_array_equal(npy(a.weight), npy(b.weight))
    np.testing.assert_array_equal(npy(a.bias), npy(b.bias))


@pytest.mark.parametrize("lead,bias", [((6,), True), ((6,), False), ((2, 3), True), ((), True)])
def test_bilinear_forward_backward_match_torch(lead, bias):
    tm = torch.nn.Bilinear(3, 4, 5, bias=bias)
    lm = nn.Bilinear(3, 4, 5, bias=bias)
    _copy(lm, tm)
    rng = np.random.RandomState(0)
    x1 = rng.standard_normal(lead + (3,)).astype(np.float32)
    x2 = rng.standard_normal(lead + (4,)).astype(np.float32)
    l1, l2, t1, t2 = lt(x1, True), lt(x2, True), tt(x1, True), tt(x2, True)
    lo, to = lm(l1, l2), tm(t1, t2)
    assert_close(lo, to)
    lo.sum().backward()
    to.sum().backward()
    for a, b in ((l1, t1), (l2, t2), (lm.weight, tm.weight)):
        assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-5)
    if bias:
        assert_close(lm.bias.grad, tm.bias.grad)


def test_bilinear_errors():
    m = nn.Bilinear(3, 4, 5)
    with pytest.raises(RuntimeError, match=r"got inputs of shapes \(2, 4\) and \(2, 4\); "
                                           r"expected \(\*, 3\) and \(\*, 4\)"):
        m(lamina.randn(2, 4), lamina.randn(2, 4))
    F = nn.functional
    with pytest.raises(RuntimeError, match="input batch dimensions do not match at dim 0: "
                                           "got 2 and 3"):
        F.bilinear(lamina.randn(2, 3), lamina.randn(3, 4), m.weight, m.bias)
    with pytest.raises(RuntimeError, match="input dimensions do not match: got 2 and 3"):
        F.bilinear(lamina.randn(2, 3), lamina.randn(2, 1, 4), m.weight)
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 3 but "
                                           "expected 5"):
        F.bilinear(lamina.randn(2, 3), lamina.randn(2, 4), m.weight, lamina.randn(3))


@pytest.mark.parametrize("backend", ["device", "fake_cupy"])
def test_linear_on_the_device(backend, request):
    if backend == "fake_cupy":
        request.getfixturevalue("fake_cupy")
        dev = lamina.device("cuda:0")
    else:
        dev = request.getfixturevalue("device")
    ref = nn.Linear(3, 2)
    m = nn.Linear(3, 2)
    m.load_state_dict(ref.state_dict())
    m.to(dev)
    x = np.random.RandomState(0).standard_normal((4, 3)).astype(np.float32)
    out = m(lt(x).to(dev))
    out.sum().backward()
    ref(lt(x)).sum().backward()
    assert out.device == dev and m.weight.grad.device == dev
    np.testing.assert_allclose(npy(out), npy(ref(lt(x))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(m.weight.grad), npy(ref.weight.grad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 6), (6,), (2, 3, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_no_grad_shortcut_matches_the_recorded_op(shape, bias):
    # under no_grad (and with nothing requiring grad) Linear skips building a node: same values
    # and shape as the recorded path and as torch, a fresh array, no autograd state
    tm = torch.nn.Linear(6, 5, bias=bias)
    lm = nn.Linear(6, 5, bias=bias)
    _copy(lm, tm)
    x = np.random.RandomState(2).standard_normal(shape).astype(np.float32)
    recorded = lm(lt(x, True))
    with lamina.no_grad():
        fast = lm(lt(x))
    assert fast.grad_fn is None and not fast.requires_grad and fast.is_leaf
    assert fast.shape == recorded.shape
    np.testing.assert_array_equal(npy(fast), npy(recorded.detach()))
    with torch.no_grad():
        assert_close(fast, tm(tt(x)))
    assert not np.shares_memory(npy(fast), x)


def test_frozen_layer_records_only_when_the_input_requires_grad():
    m = nn.Linear(3, 2).requires_grad_(False)
    out = m(lamina.randn(4, 3))
    assert out.grad_fn is None and not out.requires_grad
    x = lamina.randn(4, 3, requires_grad=True)
    out = m(x)
    assert out.grad_fn.name() == "AddmmBackward0"
    out.sum().backward()
    assert x.grad is not None and m.weight.grad is None


def test_no_grad_shortcut_keeps_the_dtype_error():
    m = nn.Linear(3, 2)
    with lamina.no_grad(), pytest.raises(RuntimeError, match="mat1 and mat2 must have the same"):
        m(lamina.randn(4, 3, dtype=lamina.float64))
