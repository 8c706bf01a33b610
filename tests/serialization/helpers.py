"""Helpers for the serialization tests: build checkpoints with chosen (even hostile) contents."""

from __future__ import annotations

import io
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
