"""lamina.save / lamina.load: round trips, storage sharing, and files exchanged with torch."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.serialization import CheckpointError

from .helpers import checkpoint_bytes, storage_records

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _sample(name, shape=(2, 3)):
    rng = np.random.RandomState(0)
    if name == "bool":
        a = rng.rand(*shape) > 0.5
    elif name.startswith("float"):
        a = rng.standard_normal(shape).astype(name)
    else:
        info = np.iinfo(name)
        a = rng.randint(max(info.min, -1000), min(info.max, 1000), shape).astype(name)
    return a


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    lamina.save(obj, buf)
    buf.seek(0)
    return lamina.load(buf, **load_kwargs)


def _np(t):
    return np.array(t._data if isinstance(t, lamina.Tensor) else t.numpy())


# ------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips(dtype):
    a = _sample(dtype)
    t = lamina.from_numpy(a.copy())
    r = _roundtrip(t)
    assert type(r) is lamina.Tensor
    assert r.dtype is getattr(lamina, dtype)
    assert r.shape == (2, 3)
    np.testing.assert_array_equal(_np(r), a)


def test_zero_dim_and_empty_tensors():
    r = _roundtrip({"s": lamina.tensor(3.5), "e": lamina.zeros(0, 4), "i": lamina.tensor(7)})
    assert r["s"].shape == () and r["s"].item() == 3.5
    assert r["e"].shape == (0, 4) and r["e"].dtype is lamina.float32
    assert r["i"].dtype is lamina.int64 and r["i"].item() == 7


def test_paths_pathlib_and_file_objects(tmp_path):
    t = lamina.arange(5.0)
    lamina.save(t, str(tmp_path / "a.pt"))
    lamina.save(t, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        lamina.save(t, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        np.testing.assert_array_equal(_np(lamina.load(tmp_path / name)), np.arange(5.0))
    with open(tmp_path / "a.pt", "rb") as f:
        np.testing.assert_array_equal(_np(lamina.load(f)), np.arange(5.0))
    np.testing.assert_array_equal(_np(lamina.load(str(tmp_path / "b.pt"))), np.arange(5.0))


def test_views_and_non_contiguous_tensors_keep_values_and_layout():
    x = lamina.arange(24.0).reshape(4, 6)
    views = {"t": x.t(), "step": x[:, ::2], "row": x[2], "narrow": x.narrow(1, 1, 3),
             "expand": lamina.ones(3, 1).expand(3, 4), "flip": x.flip(0)}
    r = _roundtrip(views)
    for k, v in views.items():
        np.testing.assert_array_equal(_np(r[k]), _np(v), err_msg=k)
        assert r[k].shape == v.shape
    assert r["t"].stride() == (1, 6)  # a view, as in torch: same strides into the storage
    assert r["expand"].stride() == (1, 0)


def test_tied_tensors_and_views_share_one_storage_after_loading():
    w = lamina.arange(6.0).reshape(2, 3)
    obj = {"enc": w, "dec": w, "col": w[:, 1], "wt": w.t()}
    data = checkpoint_bytes(obj)
    assert len(storage_records(data)) == 1  # written once
    r = lamina.load(io.BytesIO(data))
    assert r["enc"] is r["dec"]  # one object pickled twice is one object again
    r["enc"].add_(100)
    np.testing.assert_array_equal(_np(r["col"]), [101.0, 104.0])
    np.testing.assert_array_equal(_np(r["wt"])[2], [102.0, 105.0])


def test_views_of_a_big_array_save_only_the_span_they_use(tmp_path):
    big = lamina.arange(1000.0)
    a, b = big[10:20], big[15:30]
    data = checkpoint_bytes({"a": a, "b": b})
    (rec,) = storage_records(data)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo(rec).file_size == 20 * 4
    r = lamina.load(io.BytesIO(data))
    np.testing.assert_array_equal(_np(r["b"]), np.arange(15.0, 30.0))
    r["a"].add_(1000)  # still one storage: the overlap is shared
    assert _np(r["b"])[0] == 1015.0
    t = torch.load(io.BytesIO(data), weights_only=True)
    assert t["a"].tolist() == list(np.arange(10.0, 20.0))
    assert t["b"].storage_offset() == 5 and t["a"].untyped_storage().nbytes() == 80
    rows = np.random.RandomState(0).rand(10000, 8).astype(np.float32)
    data = checkpoint_bytes(lamina.from_numpy(rows[5]))
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo(storage_records(data)[0]).file_size == 32


def test_different_tensors_get_different_storages():
    data = checkpoint_bytes([lamina.ones(2), lamina.ones(2), lamina.zeros(3, dtype=lamina.int64)])
    assert len(storage_records(data)) == 3


def test_parameters_round_trip_as_parameters():
    p = nn.Parameter(lamina.randn(3, 2))
    frozen = nn.Parameter(lamina.ones(2), requires_grad=False)
    r = _roundtrip({"p": p, "f": frozen, "again": p})
    assert type(r["p"]) is nn.Parameter and r["p"].requires_grad
    assert type(r["f"]) is nn.Parameter and not r["f"].requires_grad
    assert r["again"] is r["p"]
    np.testing.assert_array_equal(_np(r["p"]), _np(p))


def test_tensor_requires_grad_flag_is_kept():
    r = _roundtrip(lamina.ones(2, requires_grad=True))
    assert r.requires_grad and r.is_leaf


def test_state_dict_metadata_and_nested_containers():
    sd = OrderedDict(w=lamina.ones(2, 2), b=lamina.zeros(2))
    sd._metadata = OrderedDict({"": {"version": 1}, "sub": {"version": 2}})
    obj = {"model": sd, "epoch": 7, "lr": 0.1, "name": "run", "none": None, "flag": True,
           "list": [1, (2.5, "x"), [lamina.tensor([1, 2])]], "size": lamina.Size([2, 3]),
           "dtype": lamina.float16, "devs": (lamina.device("cpu"), lamina.device("cuda", 1)),
           "big": 2 ** 70, "bytes": b"\x00\xff", "set": {1, 2}}
    r = _roundtrip(obj)
    assert isinstance(r["model"], OrderedDict) and list(r["model"]) == ["w", "b"]
    assert r["model"]._metadata == {"": {"version": 1}, "sub": {"version": 2}}
    for k in ("epoch", "lr", "name", "none", "flag", "big", "bytes", "set"):
        assert r[k] == obj[k], k
    assert r["list"][1] == (2.5, "x")
    np.testing.assert_array_equal(_np(r["list"][2][0]), [1, 2])
    assert type(r["size"]) is lamina.Size and r["size"] == (2, 3)
    assert r["dtype"] is lamina.float16
    assert r["devs"] == (lamina.device("cpu"), lamina.device("cuda:1"))


def test_module_state_dict_round_trip_and_load_state_dict():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lamina.randn(3, 4))
            self.register_buffer("running", lamina.zeros(3))

    net = Net()
    r = _roundtrip(net.state_dict())
    assert list(r) == ["w", "running"]
    assert hasattr(r, "_metadata")
    other = Net()
    other.load_state_dict(r)
    np.testing.assert_array_equal(_np(other.w), _np(net.w))


def test_optimizer_state_dict_round_trip():
    p = nn.Parameter(lamina.randn(4))
    opt = lamina.optim.Adam([p], lr=0.01)
    (p * p).sum().backward()
    opt.step()
    sd = opt.state_dict()
    r = _roundtrip(sd)
    assert r["param_groups"][0]["lr"] == 0.01
    assert r["param_groups"][0]["params"] == sd["param_groups"][0]["params"]
    for k, v in sd["state"][0].items():
        if isinstance(v, lamina.Tensor):
            np.testing.assert_array_equal(_np(r["state"][0][k]), _np(v))
        else:
            assert r["state"][0][k] == v


class _Tiny(nn.Module):
    """A user module class (importable from this test module) for whole-model pickling."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Parameter(lamina.randn(2, 2))
        self.register_buffer("count", lamina.tensor([3]))
        self.note = "hello"

    def forward(self, x):
        return x @ self.shared


def test_whole_model_save_needs_weights_only_false(tmp_path):
    m = _Tiny()
    path = tmp_path / "model.pt"
    lamina.save(m, path)
    with pytest.raises(pickle.UnpicklingError, match="_Tiny.*weights_only=False") as info:
        lamina.load(path)
    assert "whole model" in str(info.value) and "model.state_dict()" in str(info.value)
    r = lamina.load(path, weights_only=False)
    assert type(r) is _Tiny and r.note == "hello"
    assert type(r.shared) is nn.Parameter
    np.testing.assert_array_equal(_np(r.shared), _np(m.shared))
    assert [n for n, _ in r.named_parameters()] == ["shared"]
    x = lamina.randn(1, 2)
    np.testing.assert_allclose(_np(r(x)), _np(m(x)))


def test_seed_001_whole_model_and_state_dict(tmp_path):
    shared = nn.Linear(8, 8)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                        nn.Linear(8, 1))
    lamina.save(net, tmp_path / "model.pt")
    model = lamina.load(tmp_path / "model.pt", weights_only=False)
    assert model[2] is model[4]  # the tie survives a whole-model pickle
    assert model[2].weight is model[4].weight
    lamina.save(net.state_dict(), tmp_path / "model_params.pt")
    data = (tmp_path / "model_params.pt").read_bytes()
    assert len(storage_records(data)) == 6  # the shared layer's 2 tensors are written once
    fresh = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    fresh.load_state_dict(lamina.load(tmp_path / "model_params.pt"))
    fresh.eval()
    x = lamina.randn(3, 4)
    np.testing.assert_allclose(_np(fresh(x)), _np(net(x)), rtol=1e-6)


def test_save_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="path or a writable"):
        lamina.save(lamina.ones(1), 123)
    with pytest.raises(ValueError, match="zip format"):
        lamina.save(lamina.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="pickle_protocol"):
        lamina.save(lamina.ones(1), io.BytesIO(), pickle_protocol=1)
    with pytest.raises(TypeError, match="BytesIO"):
        lamina.load(b"PK\x03\x04")
    with pytest.raises(TypeError, match="unexpected keyword"):
        lamina.load(io.BytesIO(checkpoint_bytes(1)), foo=1)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(protocol):
    obj = {"t": lamina.arange(3), "s": lamina.Size([1]), "d": lamina.float64}
    data = checkpoint_bytes(obj, pickle_protocol=protocol)
    r = lamina.load(io.BytesIO(data))
    np.testing.assert_array_equal(_np(r["t"]), [0, 1, 2])
    # torch's own weights_only unpickler does not know protocol 4's FRAME opcode
    t = torch.load(io.BytesIO(data), weights_only=protocol < 4)
    assert t["d"] is torch.float64 and t["s"] == torch.Size([1])


def test_lamina_save_and_load_reach_the_package_level():
    assert lamina.save is lamina.serialization.save
    assert lamina.load is lamina.serialization.load


# ------------------------------------------------------------------------------- torch interop
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_save_loads_in_lamina(dtype, tmp_path):
    a = _sample(dtype, (3, 4))
    base = torch.from_numpy(a.copy())
    obj = {"t": base, "view": base[1:, ::2], "tt": base.t(), "p": torch.nn.Parameter(
        base.double()) if dtype.startswith("float") else base}
    torch.save(obj, tmp_path / "t.pt")
    r = lamina.load(tmp_path / "t.pt")
    assert r["t"].dtype is getattr(lamina, dtype)
    np.testing.assert_array_equal(_np(r["t"]), a)
    np.testing.assert_array_equal(_np(r["view"]), a[1:, ::2])
    np.testing.assert_array_equal(_np(r["tt"]), a.T)
    assert np.shares_memory(r["t"]._data, r["view"]._data)
    if dtype.startswith("float"):
        assert type(r["p"]) is nn.Parameter and r["p"].dtype is lamina.float64


@pytest.mark.parametrize("dtype", DTYPES)
def test_lamina_save_loads_in_torch_weights_only(dtype, tmp_path):
    a = _sample(dtype, (3, 4))
    base = lamina.from_numpy(a.copy())
    obj = {"t": base, "view": base[1:, ::2], "tt": base.t()}
    lamina.save(obj, tmp_path / "l.pt")
    r = torch.load(tmp_path / "l.pt", weights_only=True)
    assert r["t"].dtype is getattr(torch, dtype)
    np.testing.assert_array_equal(r["t"].numpy(), a)
    np.testing.assert_array_equal(r["view"].numpy(), a[1:, ::2])
    np.testing.assert_array_equal(r["tt"].numpy(), a.T)
    assert r["t"].untyped_storage().data_ptr() == r["view"].untyped_storage().data_ptr()
    assert r["tt"].stride() == (1, 4)


def test_torch_reads_lamina_parameters_state_dicts_and_metadata(tmp_path):
    sd = OrderedDict(weight=nn.Parameter(lamina.randn(2, 3)), bias=lamina.zeros(2))
    sd._metadata = OrderedDict({"": {"version": 1}})
    obj = {"sd": sd, "tied": sd["weight"], "size": lamina.Size([4]), "dev": lamina.device("cpu"),
           "dtype": lamina.int8, "grad": lamina.ones(2, requires_grad=True)}
    lamina.save(obj, tmp_path / "x.pt")
    r = torch.load(tmp_path / "x.pt", weights_only=True)
    assert isinstance(r["sd"]["weight"], torch.nn.Parameter)
    assert r["tied"] is r["sd"]["weight"]
    assert r["sd"]._metadata == {"": {"version": 1}}
    assert r["size"] == torch.Size([4]) and r["dev"] == torch.device("cpu")
    assert r["dtype"] is torch.int8 and r["grad"].requires_grad
    # and torch can load it into a real module
    lin = torch.nn.Linear(3, 2)
    lin.load_state_dict(r["sd"])
    np.testing.assert_array_equal(lin.weight.detach().numpy(), _np(sd["weight"]))


def test_torch_module_and_optimizer_state_dicts_load_in_lamina(tmp_path):
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.Adam(tnet.parameters())
    tnet(torch.randn(5, 4)).sum().backward()
    opt.step()
    torch.save({"model": tnet.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.pt")
    r = lamina.load(tmp_path / "ck.pt")
    assert list(r["model"]) == list(tnet.state_dict())
    assert r["model"]._metadata == tnet.state_dict()._metadata
    assert r["model"]["1.num_batches_tracked"].dtype is lamina.int64
    for k, v in tnet.state_dict().items():
        np.testing.assert_array_equal(_np(r["model"][k]), v.numpy(), err_msg=k)
    st = r["opt"]["state"][0]
    np.testing.assert_array_equal(_np(st["exp_avg"]), opt.state_dict()["state"][0]["exp_avg"])
    assert r["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_torch_protocol_4_and_tied_weights(tmp_path):
    w = torch.randn(3, 3)
    torch.save({"a": w, "b": w, "c": w[0]}, tmp_path / "p4.pt", pickle_protocol=4)
    r = lamina.load(tmp_path / "p4.pt")
    assert r["a"] is r["b"]
    assert np.shares_memory(r["a"]._data, r["c"]._data)


def test_torch_file_loads_without_importing_torch(tmp_path):
    sd = torch.nn.Linear(3, 2).state_dict()
    torch.save({"sd": sd, "p": torch.nn.Parameter(torch.ones(2))}, tmp_path / "t.pt")
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed: importing it fails\n"
        "import lamina\n"
        f"d = lamina.load({str(tmp_path / 't.pt')!r})\n"
        "assert type(d['p']).__name__ == 'Parameter'\n"
        "assert d['sd']['weight'].shape == (2, 3)\n"
        "assert sys.modules['torch'] is None\n"
        "assert not [m for m in sys.modules if m.startswith('torch.')]\n"
        "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lamina.__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_whole_torch_model_is_refused_clearly(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        lamina.load(tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="state_dict"):
        lamina.load(tmp_path / "m.pt", weights_only=False)


def test_unsupported_torch_dtypes_are_refused_clearly(tmp_path):
    torch.save({"x": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf.pt")
    with pytest.raises(CheckpointError, match="bfloat16.*does not support"):
        lamina.load(tmp_path / "bf.pt")
    torch.save(torch.ones(2, dtype=torch.uint16), tmp_path / "u16.pt")
    with pytest.raises(CheckpointError, match="uint16"):
        lamina.load(tmp_path / "u16.pt")


def test_legacy_and_torchscript_files_are_refused(tmp_path):
    torch.save(torch.ones(2), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="legacy"):
        lamina.load(tmp_path / "old.pt")
    torch.jit.save(torch.jit.script(torch.nn.ReLU()), str(tmp_path / "ts.pt"))
    with pytest.raises(CheckpointError, match="TorchScript"):
        lamina.load(tmp_path / "ts.pt")


def test_top_folder_is_taken_from_the_first_entry(tmp_path):
    torch.save(torch.arange(3), tmp_path / "weird name.v2.pt")
    assert zipfile.ZipFile(tmp_path / "weird name.v2.pt").namelist()[0].endswith("/data.pkl")
    np.testing.assert_array_equal(_np(lamina.load(tmp_path / "weird name.v2.pt")), [0, 1, 2])
    lamina.save(lamina.arange(3), tmp_path / "weird name.v2.pt")
    assert zipfile.ZipFile(tmp_path / "weird name.v2.pt").namelist()[0] == \
        "weird_name.v2/data.pkl"
    assert torch.load(tmp_path / "weird name.v2.pt").tolist() == [0, 1, 2]


def test_torch_mmap_loads_lamina_files(tmp_path):
    lamina.save({"w": lamina.arange(100.0), "b": lamina.ones(3, dtype=lamina.int16)},
                tmp_path / "m.pt")
    r = torch.load(tmp_path / "m.pt", mmap=True, weights_only=True)
    assert r["w"].sum().item() == 4950.0 and r["b"].dtype is torch.int16


def test_big_endian_checkpoints_are_byteswapped():
    from .helpers import craft

    a = np.arange(6, dtype=">f4")
    pkl = pickle.dumps(None)  # replaced below by a real tensor pickle
    data = checkpoint_bytes(lamina.zeros(6))
    z = zipfile.ZipFile(io.BytesIO(data))
    pkl = z.read(z.namelist()[0])
    r = lamina.load(craft(pkl, {"data/0": a.tobytes()}, byteorder="big"))
    np.testing.assert_array_equal(_np(r), np.arange(6.0))


@pytest.mark.parametrize("name,kw", [("Adam", {}), ("SGD", {"momentum": 0.9}),
                                     ("AdamW", {"weight_decay": 0.1})])
def test_training_checkpoints_resume_across_libraries(name, kw, tmp_path):
    """model + optimizer state_dicts saved by one library resume training in the other."""
    rng = np.random.RandomState(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w0 = rng.standard_normal((2, 3)).astype(np.float32)

    def step(m, model, opt):
        opt.zero_grad()
        (model(m.from_numpy(x.copy())) ** 2).sum().backward()
        opt.step()

    # lamina trains one step, saves; torch loads, steps again; lamina steps again: same weights
    lin = nn.Linear(3, 2)
    with lamina.no_grad():
        lin.weight.copy_(lamina.from_numpy(w0.copy()))
    opt = getattr(lamina.optim, name)(lin.parameters(), lr=0.01, **kw)
    step(lamina, lin, opt)
    lamina.save({"model": lin.state_dict(), "opt": opt.state_dict(), "epoch": 1},
                tmp_path / "l.pt")
    ck = torch.load(tmp_path / "l.pt", weights_only=True)
    tlin = torch.nn.Linear(3, 2)
    tlin.load_state_dict(ck["model"])
    topt = getattr(torch.optim, name)(tlin.parameters(), lr=0.01, **kw)
    topt.load_state_dict(ck["opt"])
    step(torch, tlin, topt)
    step(lamina, lin, opt)
    np.testing.assert_allclose(_np(lin.weight), tlin.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # and back: torch's checkpoint resumes in lamina
    torch.save({"model": tlin.state_dict(), "opt": topt.state_dict()}, tmp_path / "t.pt")
    ck = lamina.load(tmp_path / "t.pt")
    lin2 = nn.Linear(3, 2)
    lin2.load_state_dict(ck["model"])
    opt2 = getattr(lamina.optim, name)(lin2.parameters(), lr=0.01, **kw)
    opt2.load_state_dict(ck["opt"])
    step(torch, tlin, topt)
    step(lamina, lin2, opt2)
    np.testing.assert_allclose(_np(lin2.weight), tlin.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(_np(lin2.bias), tlin.bias.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------- issue 13: non-seekable input
class _EndlessStream(io.RawIOBase):
    """A non-seekable stream that never ends (an endless writer on a pipe)."""

    def __init__(self):
        self.reads = 0

    def readable(self):
        return True

    def seekable(self):
        return False

    def readinto(self, b):
        self.reads += 1
        if self.reads > 64:  # keep the test itself bounded where the loader is not
            raise AssertionError("the loader kept buffering an endless stream")
        b[:] = bytes(len(b))
        return len(b)


def test_non_seekable_file_object_fails_fast_like_torch():
    s = _EndlessStream()
    with pytest.raises(io.UnsupportedOperation, match="seekable"):
        lamina.load(s)
    assert s.reads == 0  # nothing was buffered


def test_fifo_path_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = ("import io, lamina\n"
            "try:\n"
            f"    lamina.load({str(fifo)!r})\n"
            "except io.UnsupportedOperation as e:\n"
            "    print('REFUSED', e)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lamina.__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)  # opening a FIFO without a writer would block forever
    assert "REFUSED" in out.stdout and "FIFO" in out.stdout, out.stderr[-2000:]


def test_whole_model_loads_with_only_its_module_classes_allowed(tmp_path):
    # the module registries are written as plain OrderedDicts (as torch writes them), so a
    # whole saved model needs no lamina-internal global under weights_only=True
    import lamina.nn.modules.rnn as rnn

    lamina.manual_seed(0)
    models = [lamina.nn.LSTM(3, 4, 2, bidirectional=True),
              lamina.nn.Sequential(lamina.nn.Linear(2, 3), lamina.nn.ReLU())]
    for m in models:
        path = tmp_path / "whole.pt"
        lamina.save(m, path)
        with lamina.serialization.safe_globals(list({type(x) for x in m.modules()})):
            m2 = lamina.load(path)
        assert type(m2) is type(m)
        for (k, a), (k2, b) in zip(m.state_dict().items(), m2.state_dict().items()):
            assert k == k2
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        m2.load_state_dict(m.state_dict())  # the registries work again
        assert [n for n, _ in m2.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert rnn.LSTM is lamina.nn.LSTM
    with pytest.raises(pickle.UnpicklingError, match="lamina.nn.containers.Sequential"):
        lamina.load(tmp_path / "whole.pt")
