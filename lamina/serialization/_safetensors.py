"""The safetensors format: an 8-byte little-endian header length, a JSON header, raw data.

Byte-compatible with the ``safetensors`` library (compact JSON, ``__metadata__`` first,
tensors ordered by dtype size then name, header padded with spaces to a multiple of 8, a data
buffer without holes). Loading validates the header as strictly as that library does.

Tied tensors (the library refuses them): tensors that share memory are written once; every
other tensor viewing that memory is listed in ``__metadata__["lamina.aliases"]``, a JSON object
``{alias: {"target": stored_name, "offset": elements, "shape": [...], "stride": [...]}}``,
and :func:`load` rebuilds it as a view of the stored tensor, so ties survive a round trip.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys

import numpy as np

from .. import _dtype as D
from .._device import backend, to_device
from .._tensor import Tensor, _make
from ._zipformat import CheckpointError

__all__ = ["ALIAS_KEY", "serialize", "write_file", "deserialize", "read_file"]

ALIAS_KEY = "lamina.aliases"
_MAX_HEADER = 100_000_000  # the safetensors library's limit

_CODES = {"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "int32": "I32",
          "int64": "I64", "float16": "F16", "float32": "F32", "float64": "F64"}
_FROM_CODE = {v: D._NAMES[k] for k, v in _CODES.items()}
_UNSUPPORTED_CODES = {"BF16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",
                      "F6_E2M3", "F6_E3M2", "C64", "E8M0"}


class _Plan:
    """What to write: stored tensors (name -> host contiguous array) and aliases."""

    __slots__ = ("stored", "aliases")

    def __init__(self):
        self.stored: dict[str, np.ndarray] = {}
        self.aliases: dict[str, dict] = {}


def _ptr(a, cuda):
    return int(a.data.ptr) if cuda else a.__array_interface__["data"][0]


def _plan(tensors) -> _Plan:
    if not isinstance(tensors, dict):
        raise TypeError(f"safetensors.save: expected a dict of name -> Tensor, got "
                        f"{type(tensors).__name__}")
    groups: dict = {}
    order = []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors.save: keys must be str, got {type(name).__name__}")
        if not isinstance(t, Tensor):
            raise TypeError(f"safetensors.save: {name!r} is a {type(t).__name__}; expected a "
                            f"lamina Tensor")
        a = t._data
        cuda = t._device.type != "cpu"
        atype = backend(t._device).array_type
        root = a
        while isinstance(root.base, atype):
            root = root.base
        lo = hi = _ptr(a, cuda) if a.size else 0
        ok = a.size > 0 and all(s >= 0 for s in a.strides)
        if ok:
            for n, s in zip(a.shape, a.strides):
                hi += (n - 1) * s
            hi += a.itemsize
        key = (id(root), str(t._device)) if ok else ("solo", name)
        groups.setdefault(key, []).append((name, t, lo, hi))
        order.append(name)
    plan = _Plan()
    owner_of: dict[str, tuple] = {}
    for members in groups.values():
        # the owner: a C-contiguous member covering every other one (first such, in order)
        lo = min(m[2] for m in members)
        hi = max(m[3] for m in members)
        owner = None
        for name, t, mlo, mhi in members:
            if mlo == lo and mhi == hi and t._data.flags.c_contiguous:
                owner = (name, t, mlo, mhi)
                break
        for name, t, _, _ in members:
            if owner is not None and name != owner[0]:
                alias = _alias_spec(t, owner)
                if alias is not None:
                    plan.aliases[name] = alias
                    continue
            owner_of[name] = (t,)
    for name in order:  # keep the caller's order for the stored ones
        if name in owner_of:
            t = owner_of[name][0]
            host = backend(t._device).to_numpy(t._data)
            # (not ascontiguousarray: it turns 0-d arrays into 1-d ones)
            plan.stored[name] = host if host.flags.c_contiguous else host.copy(order="C")
    return plan


def _alias_spec(t, owner):
    oname, ot, olo, _ = owner
    a = t._data
    isz = a.itemsize
    if a.dtype != ot._data.dtype or a.size == 0:
        return None
    off = t.data_ptr() - olo
    if off % isz or any(s % isz for s in a.strides):
        return None
    return {"target": oname, "offset": off // isz, "shape": list(a.shape),
            "stride": [s // isz for s in a.strides]}


def _header(plan: _Plan, metadata) -> tuple[bytes, list]:
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors.save: metadata must be a dict of str -> str")
        if ALIAS_KEY in metadata:
            raise ValueError(f"safetensors.save: the metadata key {ALIAS_KEY!r} is reserved for "
                             f"lamina's tied-tensor aliases")
    meta = dict(metadata or {})
    if plan.aliases:
        meta[ALIAS_KEY] = json.dumps(plan.aliases, separators=(",", ":"), sort_keys=True)
    # the library's order: larger dtypes first (alignment), then by name
    names = sorted(plan.stored, key=lambda n: (-plan.stored[n].dtype.itemsize, n))
    head: dict = {}
    if meta:
        head["__metadata__"] = meta
    offset = 0
    arrays = []
    for n in names:
        a = plan.stored[n]
        code = _CODES[D._FROM_NP[a.dtype].name]
        head[n] = {"dtype": code, "shape": list(a.shape),
                   "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    raw = json.dumps(head, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((-len(raw)) % 8)
    return struct.pack("<Q", len(raw)) + raw, arrays


def serialize(tensors, metadata=None) -> bytes:
    plan = _plan(tensors)
    header, arrays = _header(plan, metadata)
    out = io.BytesIO()
    out.write(header)
    for a in arrays:
        if a.size:
            out.write(memoryview(a).cast("B"))
    return out.getvalue()


def write_file(tensors, filename, metadata=None) -> None:
    from ._atomic import AtomicFile

    plan = _plan(tensors)
    header, arrays = _header(plan, metadata)
    with AtomicFile(filename, "lamina.safetensors.save_file") as sink:
        sink.write(header)
        for a in arrays:
            if a.size:
                sink.write(memoryview(a).cast("B"))
        sink.commit()


# ------------------------------------------------------------------------------------ loading
def _bad(what: str, msg: str) -> CheckpointError:
    return CheckpointError(f"lamina.safetensors: {what} {msg}")


def _no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _valid_shape(shape, itemsize: int) -> bool:
    """A list of at most 64 ints >= 0 whose non-zero product (in bytes) NumPy can index."""
    if not isinstance(shape, list) or len(shape) > 64 or not all(
            type(n) is int and n >= 0 for n in shape):
        return False
    span = itemsize
    for n in shape:
        span *= max(n, 1)  # an empty tensor's other dims still have to be representable
        if span > sys.maxsize:
            return False
    return True


def _parse_header(head_bytes: bytes, buf_len: int, what: str):
    try:
        header = json.loads(head_bytes.decode("utf-8"), object_pairs_hook=_no_dup_pairs)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(what, f"has an invalid JSON header ({e})") from None
    if not isinstance(header, dict):
        raise _bad(what, "has a header that is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and (not isinstance(meta, dict) or not all(
            isinstance(v, str) for v in meta.values())):
        raise _bad(what, "has __metadata__ that is not a map of strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _bad(what, f"has a malformed entry for {name!r}: {info!r}")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if type(code) is not str:
            raise _bad(what, f"has a dtype {code!r} for {name!r} that is not a string")
        if code in _UNSUPPORTED_CODES:
            raise _bad(what, f"holds {name!r} of dtype {code}, which lamina does not support; "
                             f"expected one of {sorted(_FROM_CODE)}")
        dt = _FROM_CODE.get(code)
        if dt is None:
            raise _bad(what, f"has an unknown dtype {code!r} for {name!r}")
        if not _valid_shape(shape, dt.itemsize):
            raise _bad(what, f"has an invalid shape {shape!r} for {name!r} (expected at most "
                             f"64 ints >= 0 whose product fits in memory)")
        if not isinstance(offs, list) or len(offs) != 2 or not all(
                type(o) is int for o in offs) or not 0 <= offs[0] <= offs[1]:
            raise _bad(what, f"has invalid data_offsets {offs!r} for {name!r}")
        numel = 1
        for n in shape:
            numel *= n
        if numel * dt.itemsize != offs[1] - offs[0]:
            raise _bad(what, f"entry {name!r}: shape {shape} of {code} needs "
                             f"{numel * dt.itemsize} bytes but data_offsets span "
                             f"{offs[1] - offs[0]}")
        entries.append((offs[0], offs[1], name, dt, tuple(shape)))
    entries.sort(key=lambda e: (e[0], e[1]))
    pos = 0
    for begin, end, name, _, _ in entries:
        if begin != pos:
            raise _bad(what, f"entry {name!r} starts at byte {begin}, expected {pos} (the data "
                             f"must be packed without holes or overlaps)")
        pos = end
    if pos != buf_len:
        raise _bad(what, f"data buffer is {buf_len} bytes but the header describes {pos} "
                         f"(truncated or padded file)")
    return entries, meta


def _aliases(meta, stored: dict, what: str):
    if not meta or ALIAS_KEY not in meta:
        return {}
    try:
        spec = json.loads(meta[ALIAS_KEY])
    except (ValueError, RecursionError):
        raise _bad(what, f"has invalid {ALIAS_KEY!r} metadata") from None
    if not isinstance(spec, dict):
        raise _bad(what, f"has invalid {ALIAS_KEY!r} metadata")
    for name, s in spec.items():
        if name in stored:
            raise _bad(what, f"alias {name!r} is also stored as a tensor")
        if not isinstance(s, dict) or type(s.get("target")) is not str or \
                s["target"] not in stored:
            raise _bad(what, f"alias {name!r} refers to a tensor that is not stored")
    return spec


def _alias_view(arr, s, name, what, xp):
    off, shape, stride = s.get("offset"), s.get("shape"), s.get("stride")
    if type(off) is not int or off < 0 or not isinstance(shape, list) or not isinstance(
            stride, list) or len(shape) != len(stride) or len(shape) > 64 or not all(
            type(v) is int and v >= 0 for v in shape + stride) or not _valid_shape(
            shape, arr.itemsize):
        raise _bad(what, f"alias {name!r} has an invalid view {s!r}")
    flat = arr.reshape(-1)
    last = off
    numel = 1
    for n, st in zip(shape, stride):
        last += (n - 1) * st
        numel *= n
    if numel == 0 or last >= flat.size:
        raise _bad(what, f"alias {name!r} reaches past its target {s['target']!r}")
    isz = flat.itemsize
    if xp is np:  # keeps .base, so the tie is seen again when this is saved
        return np.ndarray(tuple(shape), flat.dtype, buffer=flat, offset=off * isz,
                          strides=tuple(st * isz for st in stride))
    return xp.lib.stride_tricks.as_strided(flat[off:], tuple(shape),
                                           tuple(st * isz for st in stride))


def _finish(arrays: dict, meta, dev, what: str) -> dict:
    """Move to the device, add the aliases, keep the file's order."""
    aliases = _aliases(meta, arrays, what)
    b = backend(dev)
    out = {}
    moved = {}
    for name, a in arrays.items():
        moved[name] = a if dev.type == "cpu" else b.from_numpy(a)
        out[name] = _make(moved[name], dev)
    for name, s in aliases.items():
        v = _alias_view(moved[s["target"]], s, name, what, b.xp)
        out[name] = _make(v, dev)
    return out


def _device_of(device):
    if isinstance(device, int) and not isinstance(device, bool):
        device = f"cuda:{device}"
    dev = to_device(device)
    if dev.type == "cuda":
        from ._rebuild import _check_cuda

        _check_cuda(dev)
    elif dev.type != "cpu":
        raise ValueError(f"lamina.safetensors: cannot load onto device {dev}; expected 'cpu' or "
                         f"'cuda:N'")
    return dev


def deserialize(data, device="cpu") -> dict:
    what = "data"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"safetensors.load: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    dev = _device_of(device)
    if len(data) < 8:
        raise _bad(what, f"is {len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack_from("<Q", data)
    if n > _MAX_HEADER or 8 + n > len(data):
        raise _bad(what, f"declares a {n}-byte header but holds {len(data)} bytes")
    entries, meta = _parse_header(data[8:8 + n], len(data) - 8 - n, what)
    base = 8 + n
    arrays = {}
    for begin, end, name, dt, shape in sorted(entries, key=lambda e: e[2]):
        a = np.frombuffer(data, np.uint8, end - begin, base + begin).view(dt.np).reshape(shape)
        arrays[name] = a.copy()
    return _finish(arrays, meta, dev, what)


def read_file(filename, device="cpu") -> dict:
    what = f"'{os.fspath(filename)}'"
    dev = _device_of(device)
    with open(filename, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8:
            raise _bad(what, f"is {size} bytes, too short for a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise _bad(what, f"declares a {n}-byte header but the file has {size} bytes")
        hb = f.read(n)
        if len(hb) != n:
            raise _bad(what, "ended inside its header (truncated?)")
        entries, meta = _parse_header(hb, size - 8 - n, what)
        base = 8 + n
        arrays = {}
        for begin, end, name, dt, shape in entries:  # file order: sequential reads
            out = np.empty(end - begin, np.uint8)
            f.seek(base + begin)
            mv = memoryview(out)
            got = 0
            while got < out.nbytes:
                k = f.readinto(mv[got:])
                if not k:
                    raise _bad(what, f"ended inside tensor {name!r} (truncated?)")
                got += k
            arrays[name] = out.view(dt.np).reshape(shape)
    arrays = {k: arrays[k] for k in sorted(arrays)}
    return _finish(arrays, meta, dev, what)
