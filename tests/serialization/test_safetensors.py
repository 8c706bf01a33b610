"""lamina.safetensors: files interchangeable with the safetensors library; ties kept."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import safetensors
import safetensors.numpy as sn
import safetensors.torch as stt
import torch

import lamina
import lamina.safetensors as st
from lamina.serialization import CheckpointError

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _arr(dtype, shape=(3, 4)):
    rng = np.random.RandomState(1)
    if dtype == "bool":
        return rng.rand(*shape) > 0.5
    return (rng.standard_normal(shape) * 50).astype(dtype)


def _header(data: bytes) -> dict:
    (n,) = struct.unpack_from("<Q", data)
    return json.loads(data[8:8 + n])


@pytest.mark.parametrize("dtype", DTYPES)
def test_lamina_files_load_in_the_library_and_back(dtype, tmp_path):
    a = _arr(dtype)
    tensors = {"x": lamina.from_numpy(a.copy()), "s": lamina.tensor(2.5),
               "e": lamina.zeros(0, 2)}
    st.save_file(tensors, tmp_path / "l.safetensors", metadata={"format": "pt"})
    got = sn.load_file(str(tmp_path / "l.safetensors"))
    np.testing.assert_array_equal(got["x"], a)
    assert got["x"].dtype == a.dtype and got["s"].shape == () and got["e"].shape == (0, 2)
    tgot = stt.load_file(str(tmp_path / "l.safetensors"))
    assert str(tgot["x"].dtype) == f"torch.{dtype}"
    with safetensors.safe_open(str(tmp_path / "l.safetensors"), "np") as f:
        assert f.metadata() == {"format": "pt"}
    back = st.load_file(tmp_path / "l.safetensors")
    assert back["x"].dtype is getattr(lamina, dtype)
    np.testing.assert_array_equal(np.asarray(back["x"]._data), a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_library_files_load_in_lamina(dtype, tmp_path):
    a = _arr(dtype, (2, 5))
    sn.save_file({"a": a, "b": a[:1].copy()}, str(tmp_path / "n.safetensors"))
    r = st.load_file(tmp_path / "n.safetensors")
    np.testing.assert_array_equal(np.asarray(r["a"]._data), a)
    assert r["b"].shape == (1, 5) and r["a"].dtype is getattr(lamina, dtype)
    data = stt.save({"t": torch.from_numpy(a.copy())})
    np.testing.assert_array_equal(np.asarray(st.load(data)["t"]._data), a)


def test_reached_as_lamina_safetensors():
    assert lamina.safetensors is st
    assert st.ALIAS_KEY == "lamina.aliases"


def test_bytes_are_identical_to_the_library(tmp_path):
    a = {"w": _arr("float32"), "b": _arr("int8", (5,)), "d": _arr("float64", (2,))}
    lib = sn.save(a, metadata={"k": "v"})
    ours = st.save({k: lamina.from_numpy(v.copy()) for k, v in a.items()}, metadata={"k": "v"})
    assert ours == lib


def test_tied_weights_are_stored_once_and_tied_again(tmp_path):
    w = lamina.randn(4, 3)
    tensors = {"encoder.weight": w, "decoder.weight": w, "wt": w.t(), "row": w[2],
               "other": lamina.ones(2)}
    shared = torch.ones(2)
    with pytest.raises(RuntimeError, match="share memory"):  # what the library does with ties
        stt.save_file({"a": shared, "b": shared[:]}, str(tmp_path / "x"))
    st.save_file(tensors, tmp_path / "tied.safetensors")
    data = (tmp_path / "tied.safetensors").read_bytes()
    head = _header(data)
    assert set(head) - {"__metadata__"} == {"encoder.weight", "other"}  # stored once
    aliases = json.loads(head["__metadata__"]["lamina.aliases"])
    assert aliases["decoder.weight"] == {"target": "encoder.weight", "offset": 0,
                                         "shape": [4, 3], "stride": [3, 1]}
    assert aliases["wt"]["stride"] == [1, 3] and aliases["row"]["offset"] == 6
    r = st.load_file(tmp_path / "tied.safetensors")
    assert set(r) == set(tensors)
    for k, v in tensors.items():
        np.testing.assert_array_equal(np.asarray(r[k]._data), np.asarray(v._data), err_msg=k)
    r["encoder.weight"].add_(1.0)  # tied again: one memory
    np.testing.assert_array_equal(np.asarray(r["decoder.weight"]._data),
                                  np.asarray(r["encoder.weight"]._data))
    np.testing.assert_array_equal(np.asarray(r["row"]._data), np.asarray(w[2]._data) + 1)
    # the library reads the file too (seeing the stored tensors and the metadata)
    assert set(sn.load_file(str(tmp_path / "tied.safetensors"))) == {"encoder.weight", "other"}


def test_tied_module_state_dict_round_trip(tmp_path):
    class Tied(lamina.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lamina.nn.Parameter(lamina.randn(5, 3))
            self.out = lamina.nn.Parameter(lamina.zeros(5, 3))

    m = Tied()
    m.out = m.emb
    st.save_file(m.state_dict(), tmp_path / "m.safetensors")
    r = st.load_file(tmp_path / "m.safetensors")
    assert np.shares_memory(r["emb"]._data, r["out"]._data)
    fresh = Tied()
    fresh.load_state_dict(r, strict=False)
    np.testing.assert_array_equal(np.asarray(fresh.emb._data), np.asarray(m.emb._data))


def test_save_model_and_load_model(tmp_path):
    net = lamina.nn.Sequential(lamina.nn.Linear(3, 4), lamina.nn.Linear(4, 4))
    st.save_model(net, tmp_path / "net.safetensors", metadata={"epoch": "3"})
    fresh = lamina.nn.Sequential(lamina.nn.Linear(3, 4), lamina.nn.Linear(4, 4))
    assert st.load_model(fresh, tmp_path / "net.safetensors") == ([], [])
    for a, b in zip(fresh.parameters(), net.parameters()):
        np.testing.assert_array_equal(np.asarray(a._data), np.asarray(b._data))


def test_partial_overlaps_are_written_as_copies():
    w = lamina.arange(10.0)
    r = st.load(st.save({"a": w[:6], "b": w[4:]}))
    np.testing.assert_array_equal(np.asarray(r["a"]._data), np.arange(6.0))
    np.testing.assert_array_equal(np.asarray(r["b"]._data), np.arange(4.0, 10.0))


def test_save_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        st.save([lamina.ones(1)])
    with pytest.raises(TypeError, match="lamina Tensor"):
        st.save({"a": np.ones(2)})
    with pytest.raises(TypeError, match="metadata"):
        st.save({"a": lamina.ones(1)}, metadata={"k": 1})
    with pytest.raises(ValueError, match="reserved"):
        st.save({"a": lamina.ones(1)}, metadata={"lamina.aliases": "{}"})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        st.save_file({"a": lamina.ones(1)}, tmp_path / "nope" / "x.safetensors")


def _file(header: dict, payload: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + payload


@pytest.mark.parametrize("data, match", [
    (b"", "too short"),
    (struct.pack("<Q", 10 ** 12) + b"{}", "header"),
    (struct.pack("<Q", 4) + b"nope", "invalid JSON"),
    (_file([1, 2]), "not a JSON object"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(4)),
     "buffer is 4 bytes"),
    (_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
     "needs 12 bytes"),
    (_file({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)), "BF16"),
    (_file({"a": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)),
     "unknown dtype"),
    (_file({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)),
     "invalid shape"),
    (_file({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
            "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, bytes(6)),
     "holes or overlaps"),
    (_file({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
            "__metadata__": {"lamina.aliases": '{"b": {"target": "zz"}}'}}, bytes(2)),
     "not stored"),
    (_file({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
            "__metadata__": {"lamina.aliases": json.dumps(
                {"b": {"target": "a", "offset": 1, "shape": [5], "stride": [1]}})}}, bytes(2)),
     "reaches past"),
    (b'\x10\x00\x00\x00\x00\x00\x00\x00{"a":1,"a":2}   ', "duplicate"),
])
def test_malformed_files_raise_clear_errors(data, match, tmp_path):
    with pytest.raises(CheckpointError, match=match):
        st.load(data)
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(CheckpointError, match=match):
        st.load_file(tmp_path / "bad")


def test_truncated_file(tmp_path):
    data = st.save({"w": lamina.randn(10, 10)})
    (tmp_path / "t").write_bytes(data[:-7])
    with pytest.raises(CheckpointError, match="buffer is"):
        st.load_file(tmp_path / "t")


def test_load_onto_fake_gpu(fake_cupy, tmp_path):
    w = lamina.randn(3, 2)
    st.save_file({"w": w, "wt": w.t(), "c": lamina.ones(2).cuda(1)}, tmp_path / "g.safetensors")
    r = st.load_file(tmp_path / "g.safetensors", device="cuda:1")
    assert {str(t.device) for t in r.values()} == {"cuda:1"}
    np.testing.assert_array_equal(r["wt"].cpu()._data, np.asarray(w._data).T)
    r2 = st.load(st.save({"a": lamina.ones(2)}), device=0)
    assert r2["a"].device == lamina.device("cuda:0")


def test_load_onto_cuda_without_gpu_is_a_clear_error(monkeypatch):
    import sys

    from conftest import _reset_lamina_cuda_state

    monkeypatch.setitem(sys.modules, "cupy", None)  # no CuPy, even on a GPU machine
    _reset_lamina_cuda_state()
    with pytest.raises(RuntimeError, match="lamina.cuda.is_available"):
        st.load(st.save({"a": lamina.ones(1)}), device="cuda")


# ---------------------------------------------------------------- issue 13: hostile headers
def _alias_file(spec) -> bytes:
    return _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "__metadata__": {"lamina.aliases": json.dumps({"b": spec})}}, bytes(4))


@pytest.mark.parametrize("data, match", [
    (_file({"a": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
     "not a string"),
    (_file({"a": {"dtype": {"x": 1}, "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
     "not a string"),
    (_file({"a": {"dtype": "F32", "shape": [0, 2 ** 62], "data_offsets": [0, 0]}}),
     "invalid shape"),
    (_file({"a": {"dtype": "F32", "shape": [2 ** 64], "data_offsets": [0, 0]}}),
     "invalid shape"),
    (_file({"a": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, bytes(4)),
     "invalid shape"),
    (_file({"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}, bytes(4)),
     "invalid shape"),
    (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4]}}, bytes(4)),
     "data_offsets"),
    (_alias_file({"target": ["a"], "offset": 0, "shape": [1], "stride": [1]}), "not stored"),
    (_alias_file({"target": {"a": 1}, "offset": 0, "shape": [1], "stride": [1]}), "not stored"),
    (_alias_file({"target": "a", "offset": 0, "shape": [2 ** 40, 2 ** 40], "stride": [0, 0]}),
     "invalid view"),
    (_alias_file({"target": "a", "offset": -1, "shape": [1], "stride": [1]}), "invalid view"),
    (_alias_file({"target": "a", "offset": 0, "shape": [1], "stride": ["1"]}), "invalid view"),
])
def test_hostile_header_fields_raise_the_checkpoint_error(data, match, tmp_path):
    with pytest.raises(CheckpointError, match=match):
        st.load(data)
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(CheckpointError, match=match):
        st.load_file(tmp_path / "bad")


def test_empty_tensor_with_large_other_dims_still_loads():
    data = _file({"a": {"dtype": "F32", "shape": [0, 1 << 20], "data_offsets": [0, 0]}})
    assert st.load(data)["a"].shape == (0, 1 << 20)
