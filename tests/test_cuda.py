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


# Module sweep: each entry builds a module from ``nn`` (seeded, on the cpu), its inputs
# ("f": float32 values, "i": int64 class indices below ``high``) and its mode. A class that
# lamina.nn does not export yet is skipped (visibly), so the sweep grows with the package.
MODULES = [
    ("Linear", lambda nn: nn.Linear(5, 3), [("f", (4, 5))], True),
    ("Linear-nobias", lambda nn: nn.Linear(5, 3, bias=False), [("f", (2, 7, 5))], True),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [("f", (5, 3)), ("f", (5, 4))], True),
    ("MLP", lambda nn: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)),
     [("f", (4, 6))], True),
    ("ReLU", lambda nn: nn.ReLU(), [("f", (4, 6))], True),
    ("GELU", lambda nn: nn.GELU(), [("f", (4, 6))], True),
    ("SiLU", lambda nn: nn.SiLU(), [("f", (4, 6))], True),
    ("Tanh", lambda nn: nn.Tanh(), [("f", (4, 6))], True),
    ("Sigmoid", lambda nn: nn.Sigmoid(), [("f", (4, 6))], True),
    ("ELU", lambda nn: nn.ELU(), [("f", (4, 6))], True),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.1), [("f", (4, 6))], True),
    ("Softplus", lambda nn: nn.Softplus(), [("f", (4, 6))], True),
    ("Mish", lambda nn: nn.Mish(), [("f", (4, 6))], True),
    ("Hardswish", lambda nn: nn.Hardswish(), [("f", (4, 6))], True),
    ("PReLU", lambda nn: nn.PReLU(), [("f", (4, 6))], True),
    ("Softmax", lambda nn: nn.Softmax(dim=1), [("f", (4, 6))], True),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=1), [("f", (4, 6))], True),
    ("GLU", lambda nn: nn.GLU(), [("f", (4, 6))], True),
    ("Flatten", lambda nn: nn.Flatten(), [("f", (2, 3, 4))], True),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [("f", (4, 6))], True),
    ("Dropout-eval", lambda nn: nn.Dropout(0.5), [("f", (4, 6))], False),
    ("LayerNorm", lambda nn: nn.LayerNorm(6), [("f", (4, 6))], True),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 4), [("f", (3, 4, 5))], True),
    ("BatchNorm1d-train", lambda nn: nn.BatchNorm1d(4), [("f", (8, 4))], True),
    ("BatchNorm2d-eval", lambda nn: nn.BatchNorm2d(3), [("f", (2, 3, 4, 4))], False),
    ("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True), [("f", (2, 3, 5, 5))],
     True),
    ("Conv1d", lambda nn: nn.Conv1d(3, 4, 3), [("f", (2, 3, 8))], True),
    ("Conv2d", lambda nn: nn.Conv2d(3, 4, 3, padding=1, stride=2), [("f", (2, 3, 7, 7))], True),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2),
     [("f", (1, 3, 4, 4))], True),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(2), [("f", (2, 3, 6, 6))], True),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(2), [("f", (2, 3, 6, 6))], True),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d(1), [("f", (2, 3, 5, 5))], True),
    ("Embedding", lambda nn: nn.Embedding(10, 4), [("i", (3, 5), 10)], True),
    ("MSELoss", lambda nn: nn.MSELoss(), [("f", (4, 3)), ("f", (4, 3))], True),
    ("L1Loss", lambda nn: nn.L1Loss(), [("f", (4, 3)), ("f", (4, 3))], True),
    ("HuberLoss", lambda nn: nn.HuberLoss(), [("f", (4, 3)), ("f", (4, 3))], True),
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), [("f", (4, 5)), ("i", (4,), 5)],
     True),
    ("NLLLoss", lambda nn: nn.NLLLoss(), [("f", (4, 5)), ("i", (4,), 5)], True),
    ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), [("f", (4, 3)), ("f", (4, 3))],
     True),
]


class _MissingNN:
    """Stands for lamina.nn while building a sweep entry: a class it lacks skips the test."""

    def __getattr__(self, name):
        cls = getattr(nn, name, None)
        if cls is None:
            pytest.skip(f"lamina.nn.{name} is not exported yet")
        return cls


def _module_run(make, inputs, train, dev):
    lamina.manual_seed(0)
    m = make(_MissingNN())
    m.train(train)
    m.to(dev)
    rng = np.random.RandomState(3)
    xs = []
    for spec in inputs:
        if spec[0] == "i":
            a = rng.randint(0, spec[2], spec[1]).astype(np.int64)
            xs.append(lamina.from_numpy(a).to(dev))
        else:
            a = rng.standard_normal(spec[1]).astype(np.float32)
            xs.append(lamina.from_numpy(a).to(dev).requires_grad_())
    outs = _outs(m(*xs))
    sum(o.float().sum() for o in outs).backward()
    return m, outs, xs


def _check_module_on(make, inputs, train, dev):
    ref, ref_outs, ref_xs = _module_run(make, inputs, train, lamina.device("cpu"))
    m, outs, xs = _module_run(make, inputs, train, dev)
    for k, (a, b) in enumerate(zip(outs, ref_outs)):
        assert a.device == dev and a.dtype is b.dtype and a.shape == b.shape, f"out {k}"
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-4, atol=1e-5, err_msg=f"out {k}")
    for k, (a, b) in enumerate(zip(xs, ref_xs)):
        if b.grad is not None:
            assert a.grad is not None and a.grad.device == dev, f"input grad {k}"
            np.testing.assert_allclose(_host(a.grad), _host(b.grad), rtol=1e-4, atol=1e-5,
                                       err_msg=f"input grad {k}")
    for (name, p), (_, q) in zip(m.named_parameters(), ref.named_parameters()):
        assert p.device == dev and p.grad is not None and p.grad.device == dev, name
        np.testing.assert_allclose(_host(p.grad), _host(q.grad), rtol=1e-4, atol=1e-5,
                                   err_msg=f"grad of {name}")
    for (name, b), (_, c) in zip(m.named_buffers(), ref.named_buffers()):
        assert b.device == dev, name
        np.testing.assert_allclose(_host(b), _host(c), rtol=1e-4, atol=1e-5, err_msg=name)


MODULE_CASES = [pytest.param(*spec[1:], id=spec[0]) for spec in MODULES]


@pytest.mark.parametrize("make,inputs,train", MODULE_CASES)
def test_module_on_device(make, inputs, train, device):
    _check_module_on(make, inputs, train, device)


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
# (skipped where CuPy sees a GPU: there these checks would be wrong, not lamina)
without_gpu = pytest.mark.skipif(lamina.cuda.is_available(), reason="a CUDA GPU is present")


@without_gpu
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


@without_gpu
def test_moving_to_cuda_without_cupy_says_how_to_get_it():
    t = lamina.ones(2)
    for move in (lambda: t.cuda(), lambda: t.to("cuda"), lambda: t.to("cuda:1"),
                 lambda: lamina.zeros(2, device="cuda"), lambda: lamina.randn(2, device="cuda")):
        with pytest.raises(RuntimeError, match=r"lamina\[cuda\]"):
            move()


@without_gpu
def test_module_cuda_without_cupy_fails_and_changes_nothing():
    m = _Mlp()
    before = {k: _host(v) for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"lamina\[cuda\]"):
        m.cuda()
    assert all(p.device.type == "cpu" for p in m.parameters())
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(_host(v), before[k])


@without_gpu
def test_cuda_queries_without_gpu():
    assert lamina.cuda.current_device() == 0
    for call in (lamina.cuda.synchronize, lambda: lamina.cuda.set_device(0),
                 lamina.cuda.get_device_name):
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            call()
    with pytest.raises(RuntimeError, match=r"CuPy, which is not installed.*lamina\[cuda\]'"
                                           r" \(cupy-cuda12x\)"):
        lamina.cuda.set_device(0)
    assert lamina.cuda.memory_allocated() == 0 and lamina.cuda.memory_reserved() == 0
    with lamina.cuda.device(None):  # no index: nothing to switch, as in torch
        assert lamina.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="no CUDA GPU"), lamina.cuda.device(0):
        pass
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


def test_fake_gpu_context_manager_and_memory_queries(fake_cupy):
    assert lamina.cuda.memory_allocated() == 512 and lamina.cuda.memory_reserved(1) == 1024
    with lamina.cuda.device(1):
        assert lamina.cuda.current_device() == 1
        assert lamina.zeros(1, device="cuda").device == lamina.device("cuda:1")
    assert lamina.cuda.current_device() == 0
    with lamina.cuda.device(None), lamina.cuda.device(-1):
        assert lamina.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"), lamina.cuda.device(3):
        pass
    assert lamina.cuda.is_initialized()


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


@pytest.mark.parametrize("make,inputs,train", MODULE_CASES)
def test_module_on_fake_cupy(make, inputs, train, fake_cupy):
    _check_module_on(make, inputs, train, lamina.device("cuda:1"))


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


class _Holder(nn.Module):
    """Keeps ``offset`` as a plain tensor attribute: it does not move with ``.to()``."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(lamina.ones(2))
        self.offset = lamina.ones(2)

    def forward(self, x):
        return x * self.w + self.offset


def test_forward_with_a_stale_plain_tensor_names_it(fake_cupy):
    m = _Holder()
    x = lamina.ones(2)
    np.testing.assert_array_equal(_host(m(x)), [2.0, 2.0])  # fine while all is on the cpu
    m.cuda()
    assert m.w.device.type == "cuda" and m.offset.device.type == "cpu"  # really moved
    with pytest.raises(RuntimeError) as info:
        m(x.cuda())
    msg = str(info.value)
    assert "'offset' (on cpu)" in msg and "computes on cuda:0" in msg
    assert "self.register_buffer('offset', tensor)" in msg
    assert "same device" in msg  # the original error is kept in the text
    assert isinstance(info.value.__cause__, RuntimeError)
    # the suggested fix works
    m.register_buffer("offset", m.__dict__.pop("offset").cuda())
    np.testing.assert_array_equal(_host(m(x.cuda())), [2.0, 2.0])


def test_stale_plain_tensor_error_names_the_path_and_survives_hooks(fake_cupy):
    net = nn.Sequential(nn.Identity(), _Holder())
    net.cuda()
    seen = []
    net[1].register_forward_pre_hook(lambda mod, args: seen.append(1))
    with pytest.raises(RuntimeError, match=r"at '1' holds the plain tensor attribute 'offset'"):
        net(lamina.ones(2, device="cuda"))
    assert seen == [1]  # the hooked call path explains the error as well
    holder = _Holder()
    holder.consts = [lamina.ones(2)]
    holder.offset = lamina.zeros(2).cuda()

    def fwd(x):
        return x * holder.w + holder.offset + holder.consts[0]

    holder.forward = fwd
    holder.cuda()
    with pytest.raises(RuntimeError, match=r"'consts\[0\]' \(on cpu\).*register_buffer\('consts'"):
        holder(lamina.ones(2, device="cuda"))


def test_unrelated_device_errors_are_not_blamed_on_attributes(fake_cupy):
    m = _Holder().cuda()
    m.offset = m.offset.cuda()
    m.table = lamina.ones(3)  # on the cpu, but not what fails
    with pytest.raises(RuntimeError) as info:
        m(lamina.ones(2, device="cuda:1"))  # the input is on the wrong GPU
    assert "register_buffer" not in str(info.value)
    assert "same device" in str(info.value)

    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("something else")

    b = Broken()
    b.t = lamina.ones(1)
    with pytest.raises(RuntimeError, match="^something else$"):
        b(lamina.ones(1, device="cuda"))


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
