"""Helpers for the serialization tests: build checkpoints with chosen (even hostile) contents."""

from __future__ import annotations

import io
import pickle
import zipfile

import lamina
from lamina.serialization._atomic import StreamSink
from lamina.serialization._zipformat import ZipWriter


def checkpoint_bytes(obj, **kwargs) -> bytes:
    """What lamina.save writes for ``obj`` (to a BytesIO)."""
    buf = io.BytesIO()
    lamina.save(obj, buf, **kwargs)
    return buf.getvalue()


def craft(data_pkl: bytes, records: dict | None = None, top: str = "archive",
          byteorder: str | None = "little") -> io.BytesIO:
    """A torch-layout checkpoint whose data.pkl and data/N records are given verbatim."""
    buf = io.BytesIO()
    z = ZipWriter(StreamSink(buf), top)
    z.write_record("data.pkl", data_pkl)
    if byteorder is not None:
        z.write_record("byteorder", byteorder)
    for name, data in (records or {}).items():
        z.write_record(name, data)
    z.write_record("version", "3\n")
    z.finish()
    buf.seek(0)
    return buf


def members(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def storage_records(data: bytes) -> list[str]:
    return [n for n in members(data) if "/data/" in n and "/.data/" not in n]


# ------------------------------------------------------------------ hand-written pickles
def op_global(module: str, name: str) -> bytes:
    """GLOBAL opcode (protocol 0..2 form)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(s: str) -> bytes:
    b = s.encode()
    return b"X" + len(b).to_bytes(4, "little") + b


def op_int(n: int) -> bytes:
    return b"J" + n.to_bytes(4, "little", signed=True)


def op_long(n: int) -> bytes:
    b = pickle.encode_long(n)
    return b"\x8a" + bytes([len(b)]) + b


def op_tuple(*parts: bytes) -> bytes:
    return b"(" + b"".join(parts) + b"t"


def op_tensor(key: str, numel: int, size, stride, storage: str = "FloatStorage") -> bytes:
    """``_rebuild_tensor_v2`` of storage ``data/<key>`` (``numel`` elements) as a view."""
    pid = op_tuple(op_str("storage"), op_global("torch", storage), op_str(key), op_str("cpu"),
                   op_long(numel)) + b"Q"
    return (op_global("torch._utils", "_rebuild_tensor_v2")
            + op_tuple(pid, op_int(0), op_tuple(*[op_long(n) for n in size]),
                       op_tuple(*[op_long(s) for s in stride]), b"\x89",
                       op_global("collections", "OrderedDict") + b")R")
            + b"R")


def program(body: bytes) -> bytes:
    return b"\x80\x02" + body + b"."


# ------------------------------------------------------------------ bounded child processes
_CHILD_PRELUDE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))
"""


def run_limited(code: str, mem_bytes: int = 1 << 30, timeout: float = 60.0):
    """Run ``code`` in a child Python under an address-space limit and a time limit;
    returns the CompletedProcess (stdout/stderr as text). A timeout raises
    subprocess.TimeoutExpired (the child is killed)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(lamina.__file__)))
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    full = _CHILD_PRELUDE.format(mem=mem_bytes) + code
    return subprocess.run([sys.executable, "-c", full], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=root)
