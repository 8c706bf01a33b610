"""weights_only=True: the allow-list unpickler refuses hostile pickles and runs nothing."""

from __future__ import annotations

import io
import os
import pickle
import subprocess

import pytest

import lamina
from lamina.serialization import (CheckpointError, add_safe_globals, clear_safe_globals,
                                  get_safe_globals, safe_globals)

from .helpers import checkpoint_bytes, craft


class _Reduce:
    """Pickles as ``fn(*args)``: the classic code-execution payload."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class Point:
    """A harmless user class a checkpoint may legitimately contain."""

    def __init__(self, x, y):
        self.x, self.y = x, y


@pytest.fixture(autouse=False)
def clean_globals():
    clear_safe_globals()
    yield
    clear_safe_globals()


def _payloads(marker):
    cmd = f"touch {marker}"
    return {
        "os.system": pickle.dumps(_Reduce(os.system, cmd), protocol=2),
        "eval": pickle.dumps(_Reduce(eval, f"__import__('os').system({cmd!r})"), protocol=2),
        "exec-proto4": pickle.dumps(_Reduce(exec, f"open({str(marker)!r}, 'w')"), protocol=4),
        "subprocess": pickle.dumps(_Reduce(subprocess.call, ["touch", str(marker)]), protocol=2),
        "getattr": (b"\x80\x02cbuiltins\ngetattr\n(cbuiltins\n__import__\n"
                    b"(X\x02\x00\x00\x00ostRX\x06\x00\x00\x00systemtR."),
        "nested": pickle.dumps({"sd": {"w": [_Reduce(os.system, cmd)]}}, protocol=2),
        # raw opcodes: INST and OBJ build objects without REDUCE
        "inst": b"\x80\x02(S'" + cmd.encode() + b"'\nios\nsystem\n.",
        "obj": b"\x80\x02(cos\nsystem\nS'" + cmd.encode() + b"'\no.",
        "global-text": b"cposix\nsystem\n(S'" + cmd.encode() + b"'\ntR.",
    }


@pytest.mark.parametrize("name", list(_payloads("m")))
def test_hostile_pickles_run_nothing(name, tmp_path, clean_globals):
    marker = tmp_path / "pwned"
    buf = craft(_payloads(marker)[name])
    with pytest.raises(pickle.UnpicklingError) as info:
        lamina.load(buf)
    assert not marker.exists()
    msg = str(info.value)
    assert "lamina.load" in msg
    if name not in ("inst", "obj"):
        assert "refused the global" in msg
        assert "weights_only=False" in msg


def test_refusal_names_the_global_and_how_to_allow_it(clean_globals):
    buf = io.BytesIO(checkpoint_bytes({"p": Point(1, 2)}))
    with pytest.raises(pickle.UnpicklingError) as info:
        lamina.load(buf)
    msg = str(info.value)
    assert f"{Point.__module__}.Point" in msg
    assert "weights_only=False" in msg
    assert "lamina.serialization.add_safe_globals" in msg


def test_blocked_modules_are_named_as_such(tmp_path, clean_globals):
    with pytest.raises(pickle.UnpicklingError, match="module posix is blocked"):
        lamina.load(craft(_payloads(tmp_path / "m")["os.system"]))


def test_add_safe_globals_and_context_manager(clean_globals):
    data = checkpoint_bytes({"p": Point(1, 2), "t": lamina.ones(2)})
    with safe_globals([Point]):
        r = lamina.load(io.BytesIO(data))
    assert isinstance(r["p"], Point) and (r["p"].x, r["p"].y) == (1, 2)
    with pytest.raises(pickle.UnpicklingError):
        lamina.load(io.BytesIO(data))  # the context manager removed it again
    add_safe_globals([Point])
    assert Point in get_safe_globals()
    assert lamina.load(io.BytesIO(data))["p"].y == 2
    clear_safe_globals()
    assert get_safe_globals() == []
    add_safe_globals([(Point, f"{Point.__module__}.Point")])
    assert lamina.load(io.BytesIO(data))["p"].x == 1


def test_dangerous_globals_cannot_be_allowed(clean_globals):
    for g in (os.system, subprocess.Popen, (eval, "builtins.eval"), (getattr, "builtins.getattr")):
        with pytest.raises(ValueError, match="blocked"):
            add_safe_globals([g])
    with pytest.raises(TypeError):
        add_safe_globals(Point)


def test_weights_only_false_loads_user_objects(clean_globals):
    r = lamina.load(io.BytesIO(checkpoint_bytes({"p": Point(3, 4)})), weights_only=False)
    assert isinstance(r["p"], Point) and r["p"].x == 3


def _raw(*parts: bytes) -> bytes:
    return b"\x80\x02" + b"".join(parts) + b"."


@pytest.mark.parametrize("pkl, match", [
    # calling a tensor class would let a file allocate any amount of memory
    (_raw(b"ctorch\nTensor\n", b"J\x00\xe4\x0bT\x85R"), "REDUCE of"),
    (_raw(b"ctorch\nFloatStorage\n", b")R"), "REDUCE of"),
    (_raw(b"cbuiltins\nbytearray\n", b"J\x00\xe4\x0bT\x85R"), "bytearray is allowed only"),
    (_raw(b"(X\x01\x00\x00\x00aK\x01d", b"}\x94(X\x01\x00\x00\x00bK\x02u", b"b"),
     "BUILD .*dict is not allowed"),
    (_raw(b"ccollections\nOrderedDict\n)R", b"K\x01a"), "can only append to lists"),
    (_raw(b"]K\x01K\x02s"), "SETITEM only on dict"),
    (_raw(b"(X\x06\x00\x00\x00moduleK\x01tQ"), "persistent id"),
    (_raw(b"(X\x07\x00\x00\x00storageK\x01X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ"),
     "not a storage type"),
    (_raw(b"\x82\x01"), "EXT1"),
    (_raw(b"\x97"), "NEXT_BUFFER"),
    (b"\x80\x02K\x01", "truncated"),
    (b"\x80\x02X\xff\xff\xff\x7fabc.", "truncated"),
    (b"\x80\x02t.", "no MARK"),
    (b"\x80\x02h\x05.", "malformed"),
    (b"\x80\x02\xff.", "opcode"),
])
def test_malformed_and_disallowed_opcode_sequences(pkl, match, clean_globals):
    with pytest.raises((pickle.UnpicklingError, CheckpointError), match=match):
        lamina.load(craft(pkl))


def test_storage_ids_must_match_their_records():
    data = checkpoint_bytes({"w": lamina.arange(6.0)})
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(data))
    pkl = z.read(z.namelist()[0])
    # a record shorter than the 6 float32 elements the pickle declares
    with pytest.raises(CheckpointError, match="holds 20 bytes.*6 elements"):
        lamina.load(craft(pkl, {"data/0": bytes(20)}))
    # a missing record
    with pytest.raises(CheckpointError, match="no record 'archive/data/0'"):
        lamina.load(craft(pkl, {}))


def test_tensor_reaching_past_its_storage_is_refused():
    # _rebuild_tensor_v2(storage(numel=4), offset 2, size (3,), stride (1,))
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
           b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000"
           b"X\x03\x00\x00\x00cpuK\x04tQK\x02K\x03\x85K\x01\x85\x89ccollections\nOrderedDict\n)R"
           b"tR.")
    with pytest.raises(CheckpointError, match=r"needs 5 elements.*has only 4"):
        lamina.load(craft(pkl, {"data/0": bytes(16)}))
    huge = pkl.replace(b"K\x03\x85K\x01\x85", b"\x8a\x05\x00\x00\x00\x00\x01\x85K\x01\x85")
    with pytest.raises(CheckpointError, match="needs"):
        lamina.load(craft(huge, {"data/0": bytes(16)}))
    # a huge declared storage numel is caught before anything is allocated
    big = pkl.replace(b"cpuK\x04t", b"cpu\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x01t")
    with pytest.raises(CheckpointError, match="holds 16 bytes"):
        lamina.load(craft(big, {"data/0": bytes(16)}))
    neg = pkl.replace(b"K\x01\x85\x89", b"J\xff\xff\xff\xff\x85\x89")
    with pytest.raises(CheckpointError, match="ints >= 0"):
        lamina.load(craft(neg, {"data/0": bytes(16)}))


def test_deep_nesting_does_not_recurse():
    pkl = b"\x80\x02" + b"]" * 20000 + b"a" * 19999 + b"."
    r = lamina.load(craft(pkl))
    depth = 0
    while isinstance(r, list) and r:
        r = r[0]
        depth += 1
    assert depth == 19999


def test_string_opcodes_and_python2_pickles():
    pkl = b"(S'abc'\nU\x03xyzI01\nL12L\nF1.5\nV\\u00e9\nl."
    assert lamina.load(craft(pkl)) == ["abc", "xyz", True, 12, 1.5, "\u00e9"]
    assert lamina.load(craft(pkl), encoding="bytes")[:2] == [b"abc", b"xyz"]
    assert lamina.load(craft(b"c__builtin__\nset\n((K\x01ttR.")) == {1}


# ---------------------------------------------------------------- issue 13: hostile files
from .helpers import op_global, op_str, op_tensor, op_tuple, program, run_limited  # noqa: E402

_ONE_FLOAT = {"data/0": bytes(4)}


@pytest.mark.parametrize("wrapper, newobj", [
    (("collections", "Counter"), False), (("builtins", "set"), False),
    (("builtins", "frozenset"), False), (("builtins", "frozenset"), True),
    (("collections", "OrderedDict"), False), (("builtins", "set"), True),
])
def test_iterating_globals_refuse_a_tensor_argument(wrapper, newobj):
    # set(t) / Counter(t) / frozenset.__new__(frozenset, t) would unbind the tensor into one
    # Python object per element: a stride-0 tensor makes that unbounded from a tiny file
    t = op_tensor("0", 1, (1000,), (0,))
    body = op_global(*wrapper) + op_tuple(t) + (b"\x81" if newobj else b"R")
    with pytest.raises(pickle.UnpicklingError, match="only plain containers"):
        lamina.load(craft(program(body), _ONE_FLOAT))


def test_iterating_globals_still_take_plain_containers():
    body = (op_global("collections", "Counter") + op_tuple(op_str("aab")) + b"R")
    assert lamina.load(craft(program(body))) == {"a": 2, "b": 1}
    body = op_global("builtins", "frozenset") + op_tuple(b"]" + op_str("x") + b"a") + b"\x81"
    assert lamina.load(craft(program(body))) == frozenset({"x"})


def test_huge_stride0_tensor_in_a_counter_is_refused_fast_with_bounded_memory():
    # the 1 KB file: Counter(<10**8 elements, stride 0>); under a 1 GiB address-space
    # limit the child must answer with the refusal, not run out of memory or time
    t = op_tensor("0", 1, (10 ** 8,), (0,))
    data = craft(program(op_global("collections", "Counter") + op_tuple(t) + b"R"),
                 _ONE_FLOAT).getvalue()
    assert len(data) < 2048
    code = (f"import io, pickle, lamina\n"
            f"try:\n    lamina.load(io.BytesIO({data!r}))\n"
            f"except pickle.UnpicklingError as e:\n    print('REFUSED', e)\n")
    out = run_limited(code, mem_bytes=1 << 30, timeout=60)
    assert "REFUSED" in out.stdout and "only plain containers" in out.stdout, out.stderr[-2000:]


@pytest.mark.parametrize("attr", ["keys", "items", "__class__", "get"])
def test_build_may_not_shadow_dict_methods(attr):
    # BUILD of an OrderedDict with {'keys': frozenset}: load_state_dict would then see no keys
    state = b"}" + op_str(attr) + op_global("builtins", "frozenset") + b"s"
    body = op_global("collections", "OrderedDict") + b")R" + state + b"b"
    with pytest.raises(pickle.UnpicklingError, match="shadows a method"):
        lamina.load(craft(program(body)))


@pytest.mark.parametrize("meta, match", [
    (b"J\x05\x00\x00\x00", "must be a dict"),
    (b"}" + op_str("bn") + b"}" + op_str("version") + op_str("x") + b"ss", "version 'x'"),
    (b"}" + op_str("bn") + b"J\x01\x00\x00\x00s", "expected a module path"),
])
def test_build_validates_the_state_dict_metadata(meta, match):
    state = b"}" + op_str("_metadata") + meta + b"s"
    body = op_global("collections", "OrderedDict") + b")R" + state + b"b"
    with pytest.raises(pickle.UnpicklingError, match=match):
        lamina.load(craft(program(body)))


def test_real_state_dict_metadata_still_loads():
    sd = lamina.nn.BatchNorm1d(2).state_dict()
    out = lamina.load(io.BytesIO(checkpoint_bytes(sd)))
    assert out._metadata == {"": {"version": 2}}
