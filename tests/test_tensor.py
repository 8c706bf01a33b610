"""lamina.Tensor's attributes and methods, and lamina.Size, against torch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from scenario import assert_same

import lamina
from lamina import _device

SCENARIOS = {
    "attributes": """
x = m.tensor([[1., 2., 3.], [4., 5., 6.]])
out = (x.shape, x.dtype, x.device, x.ndim, x.requires_grad, x.grad, x.grad_fn, x.is_leaf)""",
    "sizes": """
x = m.tensor([[1., 2., 3.], [4., 5., 6.]])
out = (x.size(), x.size(1), x.size(-1), x.dim(), x.numel(), len(x), x.nelement())""",
    "size_bad_dim": "x = m.ones(2, 3); x.size(2)",
    "transposes": """
x = m.tensor([[1., 2., 3.], [4., 5., 6.]]); out = (x.T, x.mT, x.t())""",
    "mT_1d": "x = m.tensor([1., 2.]); out = x.mT",
    "item_tolist": """
x = m.tensor(3.5)
out = (x.item(), type(x.item()), x.tolist(), m.tensor([[1, 2]]).tolist(),
       m.tensor([True]).tolist(), m.tensor([[7]]).item(), type(m.tensor([[7]]).item()))""",
    "item_many": "x = m.tensor([1., 2.]); x.item()",
    "numpy_requires_grad": "x = m.tensor([1., 2.], requires_grad=True); x.numpy()",
    "numpy_shares": """
x = m.tensor([1., 2.]); a = x.numpy(); a[0] = 9; out = (x, type(a).__name__, a.dtype.name)""",
    "numpy_0d_is_array": "a = m.ones(3).sum().numpy(); out = (type(a).__name__, a.shape)",
    "clone": """
x = m.tensor([1., 2.], requires_grad=True); y = x.clone(); out = (y, y.is_leaf, y.requires_grad)""",
    "detach": """
x = m.tensor([1., 2.], requires_grad=True); y = x.detach(); y[0] = 5.
out = (x, y.requires_grad, y.is_leaf)""",
    "detach_": """
x = m.tensor([1., 2.], requires_grad=True); y = x * 2; y.detach_()
out = (y.requires_grad, y.grad_fn, y.is_leaf)""",
    "contiguous": """
x = m.tensor([[1., 2.], [3., 4.]]); y = x.t().contiguous()
out = (y.is_contiguous(), x.t().is_contiguous(), y, x.contiguous() is x)""",
    "to_variants": """
x = m.tensor([1., 2.])
out = (x.to(m.float64), x.to(dtype=m.int32), x.to('cpu'), x.to(m.tensor([1], dtype=m.int16)),
       x.to('cpu', m.float64), x.to(device='cpu', dtype=m.float16), x.to(m.device('cpu')))""",
    "to_identity": """
x = m.tensor([1., 2.])
out = (x.to(m.float32) is x, x.to(m.float32, copy=True) is x, x.cpu() is x, x.to(x) is x,
       x.to('cpu', copy=True) is x)""",
    "to_keeps_graph": """
x = m.tensor([1., 2.], requires_grad=True)
y = x.to(m.float64); (y * y).sum().backward(); out = (y.dtype, y.grad_fn.name(), x.grad)""",
    "casts": """
x = m.tensor([1.5, -2.7])
out = (x.float(), x.double(), x.half(), x.long(), x.int(), x.bool(), x.short(), x.byte(),
       x.char())""",
    "type_as_and_type": """
x = m.tensor([1.5, -2.7])
out = (x.type_as(m.tensor([1])), x.type(), x.type(m.int64), x.type('torch.IntTensor'))""",
    "requires_grad_": "x = m.tensor([1.5, -2.7]); out = (x.requires_grad_(), x.is_leaf)",
    "requires_grad_false": "x = m.tensor([1.5], requires_grad=True); out = x.requires_grad_(False)",
    "requires_grad_int": "x = m.tensor([1, 2]); x.requires_grad_()",
    "requires_grad_attr_int": "x = m.tensor([1, 2]); x.requires_grad = True",
    "requires_grad_nonleaf_off": """
x = m.tensor([1.], requires_grad=True); y = x * 2; y.requires_grad_(False)""",
    "misc_properties": """
x = m.tensor([1., 2.])
out = (x.element_size(), x.nbytes, x.itemsize, x.is_floating_point(),
       m.tensor([1]).is_floating_point(), x.is_cuda, x.get_device(), x.is_cpu)""",
    "strides": """
x = m.tensor([[1., 2.], [3., 4.]]); out = (x.stride(), x.t().stride(), x.stride(0),
                                          x.expand(3, 2, 2).stride())""",
    "new_factories": """
x = m.tensor([[1., 2.], [3., 4.]], dtype=m.float64)
out = (x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 7), x.new_tensor([1, 2]),
       x.new_empty(0).shape, x.new_ones(2, requires_grad=True))""",
    "iteration": "x = m.tensor([[1., 2.], [3., 4.]]); out = [r for r in x]",
    "iteration_0d": "iter(m.tensor(1.))",
    "len_0d": "len(m.tensor(1.))",
    "size_type": """
out = (m.Size([2, 3]), m.Size([2, 3]) == (2, 3), m.Size((2, 3)) + (4,), m.Size([2, 3])[1:],
       m.Size([2, 3]).numel(), str(m.Size([2])), type(m.ones(2).shape[1:]).__name__,
       m.ones(2, 3).shape == m.Size([2, 3]), isinstance(m.ones(1).shape, tuple))""",
    "python_conversions": """
out = (m.tensor(2.) == 2, float(m.tensor(2.5)), int(m.tensor(3.7)), bool(m.tensor(0.)),
       m.tensor(3).__index__(), [1, 2, 3][m.tensor(1)], format(m.tensor(2.5), '.2f'))""",
    "bool_ambiguous": "bool(m.tensor([1., 2.]))",
    "index_float": "[1, 2][m.tensor(1.)]",
    "data_ptr": """
x = m.tensor([[1., 2.], [3., 4.]])
out = (x.view(4).data_ptr() == x.data_ptr(), x.clone().data_ptr() == x.data_ptr(),
       x[1].data_ptr() == x.data_ptr() + 8)""",
    "data_of_nonleaf": """
x = m.tensor([1., 2.], requires_grad=True); y = x * 2
out = (y.data, y.data.requires_grad, y.data.grad_fn, y.data.is_leaf)""",
    "grad_wrong_type": "x = m.tensor(1., requires_grad=True); x.grad = 3",
    "deepcopy_leaf": """
import copy; x = m.tensor([1., 2.], requires_grad=True); x.grad = m.ones(2)
y = copy.deepcopy(x); out = (y, y is x, y.requires_grad, y.grad)""",
    "pickle_roundtrip": """
import pickle; x = m.tensor([1., 2.], requires_grad=True); y = pickle.loads(pickle.dumps(x))
out = (y, y.requires_grad)""",
    "empty_shapes": """
out = (m.tensor([]).shape, m.tensor([[]]).shape, m.tensor(5).shape, m.tensor([]).dtype,
       m.zeros(0, 3).sum(0), m.ones(2, 0).mean(1))""",
    "module_helpers": """
out = (m.is_tensor(m.ones(1)), m.is_tensor([1]), m.numel(m.ones(2, 3)),
       m.is_floating_point(m.ones(1)))""",
    "return_types": """
x = m.tensor([[3., 1.], [1., 2.]]); v, i = x.max(0)
r = x.min(1, keepdim=True)
out = (x.max(), x.max(dim=0), r, r.values, r[1], v, i, type(r).__name__, isinstance(r, tuple),
       x.sort(descending=True), x.topk(1))""",
    "return_types_str": "out = str(m.tensor([2., 1.]).sort())",
    "repr_grad_fn": """
x = m.tensor([[0.5, -1.]], requires_grad=True); w = m.ones(3, 2); b = m.zeros(3)
out = (x, x * 2, x.sum(), x.mean(), x.view(2), m.nn.functional.linear(x, w, b),
       x.exp(), x @ w.T, x[0], x.reshape(2, 1))""",
    "hash_and_identity": """
x = m.ones(2); d = {x: 1}; out = (d[x], hash(x) == id(x), x in [x])""",
}


def test_scenarios_listed():
    assert len(SCENARIOS) > 40


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_tensor_matches_torch(name):
    code = SCENARIOS[name]
    if "m.nn.functional.linear" in code:
        # lamina's fused op is lamina.linear (nn.functional is filled in by the layers issue)
        code = code.replace("m.nn.functional.linear", "(m.nn.functional.linear if m.__name__"
                                                      " == 'torch' else m.linear)")
    assert_same(code)


# ---------------------------------------------------------------------- devices
def test_cuda_without_cupy_says_how_to_get_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *a, **k):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    monkeypatch.setattr("lamina._backends.cupy_backend._BACKENDS", {})
    dev = lamina.device("cuda:0")
    monkeypatch.setattr(dev, "_backend", None)
    x = lamina.ones(2)
    for call in (x.cuda, lambda: x.to("cuda"), lambda: lamina.zeros(2, device="cuda")):
        with pytest.raises(RuntimeError, match=r"pip install 'lamina\[cuda\]'"):
            call()
    assert lamina.cuda.is_available() is False
    assert lamina.cuda.device_count() == 0


@pytest.fixture
def fake_cuda(monkeypatch):
    """A 'cuda:0' device backed by NumPy: enough to exercise the mixed-device checks."""
    from lamina._backends.numpy_backend import BACKEND

    dev = lamina.device("cuda:0")
    monkeypatch.setattr(dev, "_backend", BACKEND)
    monkeypatch.setattr(_device, "to_device", _device.to_device)
    return dev


MIXED = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: a @ b.reshape(2, 1),
    lambda a, b: lamina.cat([a, b]),
    lambda a, b: lamina.stack([a, b]),
    lambda a, b: lamina.where(a > 0, a, b),
    lambda a, b: a.add_(b),
    lambda a, b: a < b,
    lambda a, b: lamina.maximum(a, b),
    lambda a, b: a.clamp(b, b),
]


@pytest.mark.parametrize("k", range(len(MIXED)))
def test_mixed_devices_name_both(fake_cuda, k):
    a = lamina.ones(2)
    b = lamina.ones(2, device="cuda:0")
    assert str(b.device) == "cuda:0" and b.is_cuda
    with pytest.raises(RuntimeError) as e:
        MIXED[k](a, b)
    assert "cpu" in str(e.value) and "cuda:0" in str(e.value)
    assert "same device" in str(e.value)


def test_to_device_and_back_keeps_grad(fake_cuda):
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda:0")
    assert y.device == lamina.device("cuda:0") and y.grad_fn.name() == "ToCopyBackward0"
    (y.cpu() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert x.grad.device == lamina.device("cpu")


# ---------------------------------------------------------------------- misc
def test_size_repr_and_equality():
    s = lamina.Size([2, 3])
    assert repr(s) == "lamina.Size([2, 3])"
    assert s == (2, 3) and s == lamina.ones(2, 3).shape
    assert isinstance(s[1:], lamina.Size)
    assert pickle.loads(pickle.dumps(s)) == s


def test_repr_suffixes():
    x = lamina.tensor([[0.0092, -0.3154]], requires_grad=True)
    assert repr(x) == "tensor([[ 0.0092, -0.3154]], requires_grad=True)"
    assert repr(lamina.nn and lamina.linear(x, lamina.ones(1, 2), lamina.zeros(1))).endswith(
        "grad_fn=<AddmmBackward0>)")


def test_deepcopy_keeps_subclass_attributes():
    x = lamina.ones(2)
    y = copy.deepcopy(x)
    y.add_(1)
    assert x.tolist() == [1.0, 1.0]


def test_numpy_scalar_outputs_are_arrays():
    s = lamina.ones(3).sum()
    assert isinstance(s._data, np.ndarray) and s._data.shape == ()
    s += 1  # in place on a reduction result works (it is a real 0-d array)
    assert s.item() == 4.0


def test_functional_twins_load_on_first_use():
    # torch.conv2d & co live in a module that pulls in the conv/pool/norm/loss ops: importing
    # lamina does not load it, the first use of one of its names does
    import subprocess
    import sys

    code = ("import sys, lamina; a = 'lamina._torch_functional' in sys.modules; "
            "f = lamina.conv2d; print(a, 'lamina._torch_functional' in sys.modules, "
            "'max_pool2d' in dir(lamina))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True", "True"]
