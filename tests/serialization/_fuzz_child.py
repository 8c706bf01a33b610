"""The hostile-input fuzz loops, run by test_fuzz_hostile.py in a child process that has an
address-space limit (``python -m tests.serialization._fuzz_child TARGET N``).

Every input must give a value or the library's own exception (CheckpointError,
pickle.UnpicklingError); anything else is printed as ``UNEXPECTED`` and the child exits 1.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lamina
import lamina.safetensors as lst
from lamina.serialization import CheckpointError

from .helpers import checkpoint_bytes, craft, op_global, op_int, op_str, op_tensor, program

_OWN = (CheckpointError, pickle.UnpicklingError)


def _check(fn, data):
    try:
        fn(data)
    except _OWN as e:
        assert str(e)
    except BaseException as e:  # noqa: BLE001 - the finding being fuzzed for
        print(f"UNEXPECTED {type(e).__name__}: {e}\nINPUT {data!r}", flush=True)
        sys.exit(1)


# ------------------------------------------------------------------ pickle opcode streams
_DIMS = st.sampled_from([0, 1, 2, 3, 7, 1000, 10 ** 8, 2 ** 31, 2 ** 40, 2 ** 62, 2 ** 63])
_PIECES = st.one_of(
    st.sampled_from([b"(", b")", b"]", b"}", b"N", b"\x88", b"\x89", b"t", b"l", b"d", b"a",
                     b"e", b"s", b"u", b"R", b"b", b"\x81", b"\x92", b"0", b"1", b"2",
                     b"\x85", b"\x86", b"\x87", b"\x8f", b"\x90", b"\x91", b"\x94", b"h\x00",
                     b"h\x01", b"q\x00", b"q\x01", b"Q", op_str("x"), op_str("keys"),
                     op_str("_metadata"), op_str("version"), op_int(5), op_int(-1)]),
    st.sampled_from([("collections", "OrderedDict"), ("collections", "Counter"),
                     ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
                     ("builtins", "slice"), ("builtins", "complex"), ("torch", "Size"),
                     ("torch", "device"), ("torch", "float32"), ("torch._utils",
                     "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
                     ("torch._tensor", "_rebuild_from_type_v2"), ("torch", "Tensor"),
                     ("_codecs", "encode")]).map(lambda g: op_global(*g)),
    st.tuples(st.lists(_DIMS, max_size=3), st.lists(_DIMS, max_size=3)).map(
        lambda ss: op_tensor("0", 4, ss[0], (ss[1] + [0, 0, 0])[:len(ss[0])])),
)


@given(st.lists(_PIECES, max_size=30))
def fuzz_pickle(pieces):
    data = craft(program(b"".join(pieces)), {"data/0": bytes(16)}).getvalue()
    _check(lambda d: lamina.load(io.BytesIO(d)), data)


# ------------------------------------------------------------------ zip central directory
_VALID = checkpoint_bytes({"w": lamina.arange(12.0).reshape(3, 4), "b": lamina.ones(70_000),
                           "i": lamina.tensor([1, 2], dtype=lamina.int16)})
_CD64 = _VALID.rfind(b"PK\x06\x06")
_CD_START = _CD64 - struct.unpack_from("<Q", _VALID, _CD64 + 40)[0]
_ENTRIES = []
_q = _CD_START
while _q < _CD64:
    _n, _e, _c = struct.unpack_from("<HHH", _VALID, _q + 28)
    _ENTRIES.append(_q)
    _q += 46 + _n + _e + _c
# (offset in a central entry, struct format) of the fields worth corrupting
_FIELDS = [(8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"), (28, "<H"), (30, "<H"),
           (42, "<I")]
_VALUES = st.one_of(st.sampled_from([0, 1, 30, 64, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF]),
                    st.integers(0, len(_VALID)))


@given(st.lists(st.tuples(st.integers(0, len(_ENTRIES) - 1), st.sampled_from(_FIELDS),
                          _VALUES), min_size=1, max_size=4),
       st.lists(st.integers(0, len(_ENTRIES) - 1), max_size=3))
def fuzz_zip_directory(edits, clones):
    data = bytearray(_VALID)
    for idx, (off, fmt), val in edits:
        lim = (1 << (8 * struct.calcsize(fmt))) - 1
        struct.pack_into(fmt, data, _ENTRIES[idx] + off, min(val, lim))
    if clones:  # extra directory entries aliasing existing records (same offsets)
        cd = bytes(data[_CD_START:_CD64])
        starts = _ENTRIES + [_CD64]
        add = b"".join(cd[starts[i] - _CD_START:starts[i + 1] - _CD_START] for i in clones)
        n = len(_ENTRIES) + len(clones)
        tail = bytearray(data[_CD64:])
        struct.pack_into("<QQQ", tail, 24, n, n, len(cd) + len(add))
        loc = tail.find(b"PK\x06\x07")
        struct.pack_into("<Q", tail, loc + 8, _CD64 + len(add))
        data = bytearray(data[:_CD64]) + add + tail
    _check(lambda d: lamina.load(io.BytesIO(d)), bytes(data))


# ------------------------------------------------------------------ safetensors headers
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 64, 2 ** 64),
                  st.floats(allow_nan=False), st.text(max_size=4),
                  st.lists(st.integers(), max_size=3))
_DTYPE = st.one_of(st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "F16", "BF16", "Q9"]),
                   _JUNK)
_INTS = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 8, 2 ** 31, 2 ** 40, 2 ** 62, 2 ** 64]),
                  st.integers(-3, 3))
_SHAPE = st.one_of(st.lists(_INTS, max_size=4), _JUNK)
_ENTRY = st.fixed_dictionaries({"dtype": _DTYPE, "shape": _SHAPE,
                                "data_offsets": st.one_of(st.lists(_INTS, max_size=3), _JUNK)})
_ALIAS = st.fixed_dictionaries({"target": st.one_of(st.sampled_from(["a", "b", "zz"]), _JUNK),
                                "offset": st.one_of(_INTS, _JUNK),
                                "shape": _SHAPE, "stride": _SHAPE})


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), _ENTRY, max_size=3),
       st.one_of(st.none(), st.dictionaries(st.sampled_from(["x", "y"]), _ALIAS, max_size=2)),
       st.integers(0, 64))
def fuzz_safetensors_header(entries, aliases, payload):
    head = dict(entries)
    if aliases is not None:
        head["__metadata__"] = {"lamina.aliases": json.dumps(aliases)}
    raw = json.dumps(head).encode()
    data = struct.pack("<Q", len(raw)) + raw + bytes(payload)
    _check(lst.load, data)


_TARGETS = {"pickle": fuzz_pickle, "zip": fuzz_zip_directory,
            "safetensors": fuzz_safetensors_header}

if __name__ == "__main__":
    target, n = sys.argv[1], int(sys.argv[2])
    fn = _TARGETS[target]
    settings(max_examples=n, deadline=None, derandomize=True, database=None,
             suppress_health_check=list(HealthCheck))(fn)()
    print("FUZZ-OK", target, n, flush=True)
