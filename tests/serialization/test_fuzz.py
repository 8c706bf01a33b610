"""Fuzzing the loaders: corrupt input gives a clear exception, never a crash, hang or other error.

Accepted outcomes: a loaded object, ``CheckpointError`` (a ``RuntimeError``), another
``RuntimeError`` with a message (e.g. an unknown storage location), or
``pickle.UnpicklingError``.
"""

from __future__ import annotations

import io
import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lamina
import lamina.safetensors as lst
from lamina.serialization import CheckpointError
from lamina.serialization._unpickler import WeightsUnpickler

from .helpers import checkpoint_bytes

_OK_ERRORS = (RuntimeError, pickle.UnpicklingError)
_FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def _valid():
    w = lamina.arange(12.0).reshape(3, 4)
    sd = {"w": w, "wt": w.t(), "b": lamina.tensor([1, 2], dtype=lamina.int16),
          "p": lamina.nn.Parameter(lamina.ones(2)), "meta": [1, "x", None, lamina.Size([2])]}
    return checkpoint_bytes(sd)


_VALID = _valid()


def _try_load(data: bytes) -> None:
    try:
        lamina.load(io.BytesIO(data))
    except _OK_ERRORS as e:
        assert str(e), "errors must say what went wrong"


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1,
                max_size=8))
def test_byte_flips_in_a_checkpoint(flips):
    data = bytearray(_VALID)
    for pos, val in flips:
        data[pos] = val
    _try_load(bytes(data))


@_FUZZ
@given(st.integers(0, len(_VALID)), st.binary(max_size=64))
def test_truncation_and_insertion(cut, junk):
    _try_load(_VALID[:cut])
    _try_load(_VALID[:cut] + junk + _VALID[cut:])


_OPS = [b"(", b")", b"]", b"}", b"N", b"\x88", b"K\x01", b"K\x00", b"J\xff\xff\xff\xff",
        b"X\x01\x00\x00\x00a", b"X\x07\x00\x00\x00storage", b"X\x03\x00\x00\x00cpu",
        b"X\x01\x00\x00\x000", b"t", b"l", b"d", b"a", b"e", b"s", b"u", b"R", b"b", b"\x81",
        b"0", b"1", b"2", b"h\x00", b"h\x01", b"q\x00", b"q\x01", b"\x94", b"\x85", b"\x86",
        b"\x87", b"\x8f", b"\x90", b"\x91", b"Q", b"ccollections\nOrderedDict\n",
        b"ctorch\nSize\n", b"ctorch\ndevice\n", b"ctorch\nFloatStorage\n",
        b"ctorch._utils\n_rebuild_tensor_v2\n", b"ctorch._utils\n_rebuild_parameter\n",
        b"ctorch._tensor\n_rebuild_from_type_v2\n", b"ctorch\nTensor\n",
        b"cbuiltins\nset\n", b"c_codecs\nencode\n", b"\x8c\x05torch\x8c\x04Size\x93"]


@_FUZZ
@given(st.lists(st.sampled_from(_OPS), max_size=40))
def test_random_opcode_programs(ops):
    data = b"\x80\x02" + b"".join(ops) + b"."
    storage = bytes(64)

    def persistent_load(pid):
        raise pickle.UnpicklingError("no storages in this test")

    try:
        WeightsUnpickler(data, persistent_load).load()
    except (pickle.UnpicklingError, CheckpointError) as e:
        assert str(e)
    assert storage  # the interpreter never touches anything outside its input


@_FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_pickle(data):
    try:
        WeightsUnpickler(data, lambda pid: None).load()
    except (pickle.UnpicklingError, CheckpointError) as e:
        assert str(e)


_ST_VALID = lst.save({"w": lamina.arange(6.0).reshape(2, 3), "w2": lamina.arange(6.0)[:3],
                      "i": lamina.tensor([1, 2], dtype=lamina.int8)})


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_ST_VALID) - 1), st.integers(0, 255)),
                min_size=1, max_size=6), st.integers(0, len(_ST_VALID)))
def test_safetensors_mutations(flips, cut):
    data = bytearray(_ST_VALID)
    for pos, val in flips:
        data[pos] = val
    for candidate in (bytes(data), bytes(data[:cut])):
        try:
            lst.load(candidate)
        except CheckpointError as e:
            assert str(e)


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_ST_VALID) - 1), st.integers(0, 255)),
                max_size=4), st.integers(0, len(_ST_VALID)))
def test_safetensors_file_mutations(flips, cut):
    """The file reader (its own seek/readinto path) fails as cleanly as the bytes reader."""
    import os
    import tempfile

    data = bytearray(_ST_VALID)
    for pos, val in flips:
        data[pos] = val
    fd, path = tempfile.mkstemp(suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(data[:cut]))
        try:
            r = lst.load_file(path)
        except CheckpointError as e:
            assert str(e)
        else:
            assert all(isinstance(t, lamina.Tensor) for t in r.values())
    finally:
        os.unlink(path)


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(_VALID)))
def test_mmap_loads_of_corrupt_files(flips, cut):
    """mmap=True reads records through the mapping: corrupt files still fail cleanly."""
    import os
    import tempfile

    data = bytearray(_VALID)
    for pos, val in flips:
        data[pos] = val
    fd, path = tempfile.mkstemp(suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(data[:cut]))
        try:
            lamina.load(path, mmap=True)
        except _OK_ERRORS as e:
            assert str(e)
    finally:
        os.unlink(path)
