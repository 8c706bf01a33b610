"""map_location (str, device, dict, callable), cuda-tagged checkpoints and mmap loading."""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import sys
import zipfile

import numpy as np
import pytest
import torch

import lamina
from lamina.serialization import LoadedStorage, _zipformat

from .helpers import storage_records


def _cuda_checkpoint(fake_cupy, monkeypatch) -> bytes:
    """Bytes of a checkpoint with 'cuda:0' storages (made with the fake CuPy), then no CuPy."""
    w = lamina.arange(6.0).reshape(2, 3).cuda()
    buf = io.BytesIO()
    lamina.save({"w": w, "row": w[1], "n": lamina.tensor([7]).cuda(), "c": lamina.ones(2)}, buf)
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy now fails, as on this machine
    from conftest import _reset_lamina_cuda_state

    _reset_lamina_cuda_state()
    return buf.getvalue()


def test_cuda_checkpoint_records_cuda_locations(fake_cupy, monkeypatch):
    data = _cuda_checkpoint(fake_cupy, monkeypatch)
    z = zipfile.ZipFile(io.BytesIO(data))
    pkl = z.read("archive/data.pkl")
    assert b"cuda:0" in pkl and b"cpu" in pkl
    assert len(storage_records(data)) == 3  # w and its row share one storage


def test_cuda_checkpoint_without_gpu_needs_map_location(fake_cupy, monkeypatch):
    data = _cuda_checkpoint(fake_cupy, monkeypatch)
    assert not lamina.cuda.is_available()
    with pytest.raises(RuntimeError) as info:
        lamina.load(io.BytesIO(data))
    msg = str(info.value)
    assert "Attempting to deserialize object on a CUDA device" in msg
    assert "map_location=lamina.device('cpu')" in msg
    with pytest.raises(RuntimeError, match="CUDA device"):
        lamina.load(io.BytesIO(data), map_location=lambda s, loc: None)  # None: the default


@pytest.mark.parametrize("ml", ["cpu", lamina.device("cpu"), {"cuda:0": "cpu"},
                                {"cuda:0": lamina.device("cpu")}, lambda s, loc: s,
                                lambda s, loc: s.cpu(), lambda s, loc: "cpu"])
def test_map_location_forms_map_cuda_to_cpu(ml, fake_cupy, monkeypatch):
    data = _cuda_checkpoint(fake_cupy, monkeypatch)
    r = lamina.load(io.BytesIO(data), map_location=ml)
    assert all(t.device == lamina.device("cpu") for t in r.values())
    np.testing.assert_array_equal(np.asarray(r["w"]._data), np.arange(6.0).reshape(2, 3))
    assert np.shares_memory(r["w"]._data, r["row"]._data)
    assert r["n"].dtype is lamina.int64


def test_torch_reads_lamina_cuda_checkpoints_with_map_location(fake_cupy, monkeypatch):
    data = _cuda_checkpoint(fake_cupy, monkeypatch)
    r = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    assert r["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert r["row"].untyped_storage().data_ptr() == r["w"].untyped_storage().data_ptr()


def test_map_location_onto_fake_gpus(fake_cupy):
    buf = io.BytesIO()
    w = lamina.arange(4.0)
    lamina.save({"w": w, "v": w[1:], "c": w.cuda()}, buf)
    r = lamina.load(io.BytesIO(buf.getvalue()))
    assert r["w"].device.type == "cpu" and r["c"].device == lamina.device("cuda:0")
    r = lamina.load(io.BytesIO(buf.getvalue()), map_location="cuda:1")
    assert {str(t.device) for t in r.values()} == {"cuda:1"}
    assert isinstance(r["w"]._data, fake_cupy.ndarray)
    np.testing.assert_array_equal(r["v"].cpu()._data, [1.0, 2.0, 3.0])
    r["w"].add_(10)  # still one storage on the device
    np.testing.assert_array_equal(r["v"].cpu()._data, [11.0, 12.0, 13.0])
    r = lamina.load(io.BytesIO(buf.getvalue()), map_location={"cpu": "cuda:0"})
    assert {str(t.device) for t in r.values()} == {"cuda:0"}
    seen = []

    def fn(storage, location):
        seen.append((location, storage.device.type, isinstance(storage, LoadedStorage)))
        return storage.cuda(1)

    r = lamina.load(io.BytesIO(buf.getvalue()), map_location=fn)
    assert {str(t.device) for t in r.values()} == {"cuda:1"}
    assert sorted(seen) == [("cpu", "cpu", True), ("cuda:0", "cpu", True)]
    with pytest.raises(RuntimeError, match="CUDA device 5 but lamina.cuda.device_count"):
        lamina.load(io.BytesIO(buf.getvalue()), map_location="cuda:5")


def test_bad_map_locations():
    buf = io.BytesIO()
    lamina.save(lamina.ones(2), buf)
    with pytest.raises(TypeError, match="map_location must be"):
        lamina.load(io.BytesIO(buf.getvalue()), map_location=3.5)
    with pytest.raises(TypeError, match="map_location returned int"):
        lamina.load(io.BytesIO(buf.getvalue()), map_location=lambda s, loc: 1)
    with pytest.raises(RuntimeError, match="tagged with mps"):
        lamina.load(io.BytesIO(buf.getvalue()), map_location={"cpu": "mps"})


# ------------------------------------------------------------------------------------- mmap
def test_mmap_loads_copy_on_write_views_of_the_file(tmp_path):
    sd = {"w": lamina.randn(64, 32), "b": lamina.arange(32), "e": lamina.zeros(0)}
    sd["wt"] = sd["w"].t()
    path = tmp_path / "m.pt"
    lamina.save(sd, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    r = lamina.load(path, mmap=True)
    for k in sd:
        np.testing.assert_array_equal(np.asarray(r[k]._data), np.asarray(sd[k]._data))
    root = r["w"]._data
    while isinstance(root.base, np.ndarray):
        root = root.base
    assert isinstance(root.base, memoryview) and isinstance(root.base.obj, mmap.mmap)
    assert np.shares_memory(r["w"]._data, r["wt"]._data)
    r["w"].mul_(0)  # in-place changes stay in memory (copy-on-write)
    assert float(r["wt"].abs().sum()) == 0.0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    again = lamina.load(path, mmap=True)
    np.testing.assert_array_equal(np.asarray(again["w"]._data), np.asarray(sd["w"]._data))


def test_mmap_reads_no_record_up_front(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    lamina.save({"w": lamina.randn(256, 256), "v": lamina.randn(10)}, path)

    def no_reads(self, entry, out, *args):
        raise AssertionError(f"{entry.name} was read into memory")

    monkeypatch.setattr(_zipformat.ZipReader, "readinto", no_reads)
    r = lamina.load(path, mmap=True)
    assert r["w"].shape == (256, 256)
    with pytest.raises(AssertionError, match="was read"):
        lamina.load(path)  # the non-mmap path does read (the patch works)


def test_mmap_needs_a_real_file(tmp_path):
    buf = io.BytesIO()
    lamina.save(lamina.ones(2), buf)
    with pytest.raises(ValueError, match="mmap=True needs a file path"):
        lamina.load(io.BytesIO(buf.getvalue()), mmap=True)
    lamina.save(lamina.ones(2), tmp_path / "x.pt")
    with open(tmp_path / "x.pt", "rb") as f:
        assert float(lamina.load(f, mmap=True).sum()) == 2.0


def test_mmap_loaded_state_dict_saves_each_storage_once(tmp_path):
    lamina.save({"a": lamina.ones(3), "b": lamina.zeros(5)}, tmp_path / "a.pt")
    r = lamina.load(tmp_path / "a.pt", mmap=True)
    lamina.save({"b": r["b"]}, tmp_path / "b.pt")  # only b's own bytes, not the whole file
    data = (tmp_path / "b.pt").read_bytes()
    z = zipfile.ZipFile(io.BytesIO(data))
    assert [z.getinfo(n).file_size for n in storage_records(data)] == [20]


def test_mmap_of_many_storages_uses_one_file_descriptor(tmp_path):
    lamina.save([lamina.ones(3) * i for i in range(300)], tmp_path / "many.pt")
    before = len(os.listdir("/proc/self/fd"))
    r = lamina.load(tmp_path / "many.pt", mmap=True)
    assert len(os.listdir("/proc/self/fd")) - before <= 1
    assert float(r[299].sum()) == 897.0


def test_torch_mmap_file_loads_with_lamina_mmap(tmp_path):
    torch.save({"w": torch.arange(10.0)}, tmp_path / "t.pt")
    r = lamina.load(tmp_path / "t.pt", mmap=True)
    np.testing.assert_array_equal(np.asarray(r["w"]._data), np.arange(10.0))


def test_mmap_then_map_location_to_a_fake_gpu(tmp_path, fake_cupy):
    lamina.save({"w": lamina.arange(3.0)}, tmp_path / "m.pt")
    r = lamina.load(tmp_path / "m.pt", mmap=True, map_location="cuda")
    assert r["w"].device == lamina.device("cuda:0")
    np.testing.assert_array_equal(r["w"].cpu()._data, [0.0, 1.0, 2.0])
