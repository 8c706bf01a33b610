"""lamina.cuda, devices, and the backend conformance suite.

Three layers of checks:

* this machine (no CuPy, no GPU): the queries answer False/0 and every way onto a GPU fails
  with a clear ``RuntimeError`` naming ``lamina[cuda]``;
* the fake CuPy (``fake_cupy`` fixture, tests/conftest.py): lamina's cuda code paths (the
  CuPy backend, ``lamina.cuda``, ``Tensor.to``, ``Module.to``, every op of the catalogue,
  optimizers) run with ``xp`` = a CuPy look-alike that refuses host arrays;
* the ``device`` fixture (``pytest --device cuda`` or ``LAMINA_TEST_DEVICE=cuda``): the op
  catalogue and small models run on that device and must match the CPU. In CI it is ``cpu``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops.op_db import OPS, make_inputs

import lamina
from lamina import nn


class _Dev:
    """``m`` for the op catalogue's ``fn(m, ...)``: lamina, but literal tensors (index
    tensors built inside ``fn``) are created on the device under test."""

    def __init__(self, dev):
        self._dev = dev

    def __getattr__(self, name):
        return getattr(lamina, name)

    def tensor(self, data, **kwargs):
        kwargs.setdefault("device", self._dev)
        return lamina.tensor(data, **kwargs)


def _host(t):
    return np.asarray(t.detach().cpu()._data)


def _outs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def _run_on(op, arrs, dev):
    xs = [lamina.from_numpy(a.copy()).to(dev).requires_grad_() for a in arrs]
    outs = _outs(op.fn(_Dev(dev), *xs))
    total = None
    for o in outs:
        if o.requires_grad:
            s = o.float().sum()
            total = s if total is None else total + s
    if total is not None:
        total.backward()
    return outs, xs


def _check_same(op, arrs, dev):
    ref_outs, ref_in = _run_on(op, arrs, lamina.device("cpu"))
    outs, xs = _run_on(op, arrs, dev)
    assert len(outs) == len(ref_outs)
    for k, (a, b) in enumerate(zip(outs, ref_outs)):
        assert a.device == dev, f"output {k} is on {a.device}"
        assert a.dtype is b.dtype, f"output {k}"
        # a GPU sums in another order and has its own libm: the catalogue's float32 tolerances
        np.testing.assert_allclose(_host(a), _host(b), rtol=op.rtol, atol=op.atol,
                                   err_msg=f"out {k}")
    for k, (a, b) in enumerate(zip(xs, ref_in)):
        if b.grad is None:
            assert a.grad is None or not _host(a.grad).any()
            continue
        assert a.grad is not None and a.grad.device == dev, f"grad {k}"
        np.testing.assert_allclose(_host(a.grad), _host(b.grad), rtol=op.rtol * 10,
                                   atol=op.atol * 10, err_msg=f"grad {k}")


CASES = [pytest.param(op, i, id=f"{op.name}-{i}") for op in OPS for i in range(len(op.samples))]


# ------------------------------------------------------------------ conformance: --device
@pytest.mark.parametrize("op,i", CASES)
def test_op_catalogue_on_device(op, i, device):
    _check_same(op, make_inputs(op.samples[i], op.domain, np.float32, 7 + i), device)


def test_small_model_trains_the_same_on_device(device):
    lamina.manual_seed(0)
    ref = _Mlp()
    model = _Mlp()
    model.load_state_dict(ref.state_dict())
    model.to(device)
    x = np.random.RandomState(0).standard_normal((8, 4)).astype(np.float32)
    for m, dev in ((ref, lamina.device("cpu")), (model, device)):
        opt = lamina.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            loss = (m(lamina.from_numpy(x.copy()).to(dev)) ** 2).mean()
            loss.backward()
            opt.step()
    assert model.w1.device == device
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-5, atol=1e-6)


class _Mlp(nn.Module):
    """A two-layer perceptron built from Parameters (no layer classes needed)."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(lamina.randn(4, 8) * 0.5)
        self.b1 = nn.Parameter(lamina.zeros(8))
        self.w2 = nn.Parameter(lamina.randn(8, 2) * 0.5)
        self.register_buffer("scale", lamina.tensor(2.0))

    def forward(self, x):
        return ((x @ self.w1 + self.b1).relu() @ self.w2) * self.scale


# ------------------------------------------------------------------ this machine: no GPU
def test_no_gpu_here():
    assert lamina.cuda.is_available() is False
    assert lamina.cuda.device_count() == 0
    dev = lamina.device("cuda" if lamina.cuda.is_available() else "cpu")
    assert dev == lamina.device("cpu")
    assert lamina.zeros(3, 3, device=dev).device == lamina.device("cpu")


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:1", "cuda:7", "cpu"])
def test_device_forms_match_torch(spec):
    d, t = lamina.device(spec), torch.device(spec)
    assert repr(d) == repr(t) and str(d) == str(t)
    assert (d.type, d.index) == (t.type, t.index)


def test_device_format_idiom_and_equality():
    for i in range(4):
        d = lamina.device("cuda:{}".format(i))  # noqa: UP032 - the seed's spelling
        assert d.type == "cuda" and d.index == i and d == lamina.device("cuda", i)
        assert str(d) == f"cuda:{i}"
    assert lamina.device("cuda") != lamina.device("cuda:0")  # as in torch
    assert lamina.device("cuda", 1) == "cuda:1"
    with pytest.raises(RuntimeError, match="Invalid device string"):
        lamina.device("cuda:x")


def test_moving_to_cuda_without_cupy_says_how_to_get_it():
    t = lamina.ones(2)
    for move in (lambda: t.cuda(), lambda: t.to("cuda"), lambda: t.to("cuda:1"),
                 lambda: lamina.zeros(2, device="cuda"), lambda: lamina.randn(2, device="cuda")):
        with pytest.raises(RuntimeError, match=r"lamina\[cuda\]"):
            move()


def test_module_cuda_without_cupy_fails_and_changes_nothing():
    m = _Mlp()
    before = {k: _host(v) for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"lamina\[cuda\]"):
        m.cuda()
    assert all(p.device.type == "cpu" for p in m.parameters())
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(_host(v), before[k])


def test_cuda_queries_without_gpu():
    assert lamina.cuda.current_device() == 0
    for call in (lamina.cuda.synchronize, lambda: lamina.cuda.set_device(0),
                 lamina.cuda.get_device_name):
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            call()
    lamina.cuda.manual_seed_all(0)  # like torch: silently nothing to seed
    lamina.cuda.manual_seed(0)
    lamina.cuda.empty_cache()
    with pytest.raises(ValueError, match="Expected a cuda device"):
        lamina.cuda.set_device("cpu")


# ------------------------------------------------------------------ the fake CuPy
def test_fake_gpu_queries(fake_cupy):
    assert lamina.cuda.is_available() and lamina.cuda.device_count() == 2
    assert lamina.cuda.get_device_name(1) == "Fake GPU"
    lamina.cuda.synchronize()
    lamina.cuda.synchronize("cuda:1")
    lamina.cuda.synchronize(lamina.device("cuda", 0))
    lamina.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        lamina.cuda.set_device(2)
    lamina.cuda.set_device("cuda:1")
    assert lamina.cuda.current_device() == 1
    assert lamina.ones(2).cuda().device == lamina.device("cuda:1")
    assert lamina.zeros(1, device="cuda").device == lamina.device("cuda:1")
    lamina.cuda.set_device(0)


def test_tensor_to_and_back(fake_cupy):
    x = lamina.arange(6.0).reshape(2, 3)
    for y, want in ((x.cuda(), "cuda:0"), (x.cuda(1), "cuda:1"), (x.to("cuda"), "cuda:0"),
                    (x.to(lamina.device("cuda", 1)), "cuda:1"), (x.to("cuda:0"), "cuda:0")):
        assert str(y.device) == want and y.is_cuda and not y.is_cpu
        assert isinstance(y._data, fake_cupy.ndarray)
        assert y.get_device() == int(want[-1])
        np.testing.assert_array_equal(_host(y), _host(x))
    y = x.cuda()
    assert y.to("cuda") is y and y.cuda() is y
    z = y.to("cuda", lamina.float64)
    assert z.dtype is lamina.float64 and z.device == y.device
    back = y.cpu()
    assert back.device.type == "cpu" and type(back._data) is np.ndarray
    assert "device='cuda:0'" in repr(y)
    assert y.tolist() == x.tolist() and y[1, 2].item() == 5.0
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        y.numpy()


def test_gradients_flow_across_devices(fake_cupy):
    x = lamina.ones(3, requires_grad=True)
    y = (x.cuda() * 3).sum()
    y.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_array_equal(_host(x.grad), [3.0, 3.0, 3.0])


def test_mixing_devices_is_a_clear_error(fake_cupy):
    a = lamina.ones(2).cuda()
    with pytest.raises(RuntimeError, match="cuda:0.*cpu|cpu.*cuda:0"):
        a + lamina.ones(2)
    with pytest.raises(RuntimeError, match="cuda:0.*cuda:1|cuda:1.*cuda:0"):
        a + lamina.ones(2).cuda(1)


def test_invalid_gpu_ordinal(fake_cupy):
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        lamina.zeros(2, device="cuda:5")


def test_creation_and_random_on_the_fake_gpu(fake_cupy):
    for t in (lamina.zeros(2, 3, device="cuda"), lamina.ones(2, device="cuda:1"),
              lamina.tensor([1, 2], device="cuda"), lamina.arange(4, device="cuda"),
              lamina.randn(3, device="cuda"), lamina.rand(3, device="cuda:1")):
        assert t.device.type == "cuda" and isinstance(t._data, fake_cupy.ndarray)
    lamina.cuda.manual_seed_all(123)
    a = _host(lamina.randn(5, device="cuda"))
    lamina.cuda.manual_seed_all(123)
    b = _host(lamina.randn(5, device="cuda"))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("op,i", CASES)
def test_op_catalogue_on_fake_cupy(op, i, fake_cupy):
    _check_same(op, make_inputs(op.samples[i], op.domain, np.float32, 11 + i),
                lamina.device("cuda:0"))


def test_module_to_keeps_parameter_identity_and_ties(fake_cupy):
    m = _Mlp()
    m.tied = m.w1  # one Parameter registered twice
    params = list(m.parameters())
    ids = [id(p) for p in params]
    opt = lamina.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    (m(lamina.randn(2, 4)) ** 2).mean().backward()
    opt.step()
    out = m.to("cuda")
    assert out is m
    assert [id(p) for p in m.parameters()] == ids
    assert m.tied is m.w1
    assert all(p.device == lamina.device("cuda:0") for p in m.parameters())
    assert all(p.grad.device == lamina.device("cuda:0") for p in m.parameters())
    assert m.scale.device == lamina.device("cuda:0")  # buffers move too
    assert all(isinstance(p, nn.Parameter) for p in m.parameters())
    opt.zero_grad()
    loss = (m(lamina.randn(2, 4, device="cuda")) ** 2).mean()
    loss.backward()
    opt.step()  # the optimizer holds the same Parameter objects, now on the GPU
    assert all(p.device.type == "cuda" for p in opt.param_groups[0]["params"])
    m.cuda(1)
    assert {str(p.device) for p in m.parameters()} == {"cuda:1"}
    m.cpu()
    assert all(p.device.type == "cpu" and type(p._data) is np.ndarray for p in m.parameters())
    assert [id(p) for p in m.parameters()] == ids


def test_optimizer_state_moves_with_load_state_dict(fake_cupy):
    m = _Mlp()
    opt = lamina.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    (m(lamina.randn(2, 4)) ** 2).mean().backward()
    opt.step()
    state = opt.state_dict()
    m.cuda()
    opt2 = lamina.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    opt2.load_state_dict(state)
    for p in m.parameters():
        buf = opt2.state[p]["momentum_buffer"]
        assert buf.device == p.device == lamina.device("cuda:0")


def test_plain_tensor_attribute_does_not_move(fake_cupy):
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lamina.ones(2))
            self.plain = lamina.ones(2)  # not a buffer: torch leaves it where it is

    m = Holder().cuda()
    assert m.w.device.type == "cuda"
    assert m.plain.device.type == "cpu"


@pytest.mark.xfail(reason="Module.__call__'s plain-tensor device check is wired by the module "
                          "owner (see the serialization/devices report)", strict=False)
def test_forward_with_a_stale_plain_tensor_names_it(fake_cupy):
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lamina.ones(2))
            self.offset = lamina.ones(2)

        def forward(self, x):
            return x * self.w + self.offset

    m = Holder().cuda()
    with pytest.raises(RuntimeError, match="'offset'.*register_buffer"):
        m(lamina.ones(2, device="cuda"))


def test_save_and_load_cuda_models(fake_cupy, tmp_path):
    m = _Mlp().cuda()
    lamina.save(m.state_dict(), tmp_path / "sd.pt")
    sd = lamina.load(tmp_path / "sd.pt")
    assert all(v.device == lamina.device("cuda:0") for v in sd.values())
    sd_cpu = lamina.load(tmp_path / "sd.pt", map_location="cpu")
    fresh = _Mlp()
    fresh.load_state_dict(sd_cpu)
    for a, b in zip(fresh.parameters(), m.parameters()):
        np.testing.assert_array_equal(_host(a), _host(b))
    lamina.save(m, tmp_path / "whole.pt")
    back = lamina.load(tmp_path / "whole.pt", weights_only=False, map_location="cuda:1")
    assert {str(p.device) for p in back.parameters()} == {"cuda:1"}
    t = torch.load(tmp_path / "sd.pt", map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(t["w1"].numpy(), _host(m.w1))
