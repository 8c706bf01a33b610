"""The zip container: torch's layout on write, strict and bounded parsing on read."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
import torch

import lamina
from lamina.serialization import CheckpointError, _zipformat

from .helpers import checkpoint_bytes, craft


def _local_offsets(data: bytes):
    """(name, data offset, flags) of every record, read from the local headers."""
    out = []
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        h = info.header_offset
        sig, _, flags, method, *_, nlen, elen = struct.unpack_from("<IHHHHHIIIHH", data, h)
        assert sig == 0x04034B50 and method == 0
        extra = data[h + 30 + nlen:h + 30 + nlen + elen]
        assert extra[:2] == b"FB"  # torch's padding field
        out.append((info.filename, h + 30 + nlen + elen, flags, info))
    return out


def test_layout_matches_torch():
    obj = {"a": lamina.arange(10.0), "b": lamina.ones(3, dtype=lamina.int8), "e": lamina.zeros(0)}
    data = checkpoint_bytes(obj)
    recs = _local_offsets(data)
    names = [n for n, *_ in recs]
    assert names == ["archive/data.pkl", "archive/.format_version",
                     "archive/.storage_alignment", "archive/byteorder", "archive/data/0",
                     "archive/data/1", "archive/data/2", "archive/version",
                     "archive/.data/serialization_id"]
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None  # every CRC is right
    assert z.read("archive/byteorder") == b"little"
    assert z.read("archive/version") == b"3\n"
    assert z.read("archive/.format_version") == b"1"
    assert z.read("archive/.storage_alignment") == b"64"
    assert len(z.read("archive/.data/serialization_id")) == 40
    for name, off, flags, info in recs:
        assert off % 64 == 0, name  # every record starts 64-byte aligned
        assert flags & 0x800
        if info.file_size:  # a data descriptor follows non-empty records, as miniz writes
            assert flags & 0x8
            end = off + info.file_size
            assert data[end:end + 4] == b"PK\x07\x08"
            assert struct.unpack_from("<I", data, end + 4)[0] == info.CRC
        else:
            assert not flags & 0x8
    raw = z.read("archive/data/0")
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4"), np.arange(10.0))
    assert data.rfind(b"PK\x06\x06") > 0 and data.endswith(bytes(2))  # zip64 end + EOCD


def test_zip64_records_are_read_by_zipfile_torch_and_lamina(monkeypatch, tmp_path):
    monkeypatch.setattr(_zipformat, "ZIP64_LIMIT", 16)  # every size/offset >= 16 goes 64-bit
    obj = {"w": lamina.arange(40.0), "b": lamina.ones(2)}
    lamina.save(obj, tmp_path / "z64.pt")
    data = (tmp_path / "z64.pt").read_bytes()
    assert b"\x01\x00\x18\x00" in data or b"\x01\x00\x10\x00" in data  # zip64 extra fields
    z = zipfile.ZipFile(tmp_path / "z64.pt")
    assert z.testzip() is None
    t = torch.load(tmp_path / "z64.pt", weights_only=True)
    np.testing.assert_array_equal(t["w"].numpy(), np.arange(40.0))
    r = lamina.load(tmp_path / "z64.pt")
    np.testing.assert_array_equal(np.asarray(r["w"]._data), np.arange(40.0))


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"PK", "too short"),
    (b"hello world, not a checkpoint at all" * 3, "not a checkpoint"),
    (b"PK\x03\x04" + bytes(100), "no zip end-of-central-directory"),
    (b"\x80\x02K\x01.", "legacy"),
])
def test_not_a_checkpoint(data, match):
    with pytest.raises(CheckpointError, match=match):
        lamina.load(io.BytesIO(data))


def test_truncated_files_raise_clear_errors():
    data = checkpoint_bytes({"w": lamina.randn(64, 64), "b": lamina.ones(64)})
    for cut in [1, 30, 64, 100, 1000, len(data) // 2, len(data) - 100, len(data) - 23,
                len(data) - 1]:
        with pytest.raises(CheckpointError):
            lamina.load(io.BytesIO(data[:cut]))


def _zip_of(members: dict) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    buf.seek(0)
    return buf


def test_wrong_zip_members():
    with pytest.raises(CheckpointError, match="not inside a folder"):
        lamina.load(_zip_of({"data.pkl": b"\x80\x02N."}))
    with pytest.raises(CheckpointError, match="no 'x/data.pkl'"):
        lamina.load(_zip_of({"x/other.txt": b"hi"}))
    with pytest.raises(CheckpointError, match="empty zip"):
        lamina.load(_zip_of({}))
    # a zip written by Python's zipfile (no alignment, no descriptors) is still fine
    assert lamina.load(_zip_of({"x/data.pkl": b"\x80\x02K\x07."})) == 7


def test_compressed_and_duplicate_members():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("x/data.pkl", b"\x80\x02K\x07.")
    buf.seek(0)
    with pytest.raises(CheckpointError, match="compressed"):
        lamina.load(buf)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, pytest.warns(UserWarning):
        z.writestr("x/data.pkl", b"\x80\x02K\x07.")
        z.writestr("x/data.pkl", b"\x80\x02K\x08.")
    buf.seek(0)
    with pytest.raises(CheckpointError, match="twice"):
        lamina.load(buf)


def test_bad_byteorder_record():
    with pytest.raises(CheckpointError, match="byteorder"):
        lamina.load(craft(b"\x80\x02N.", byteorder="middle"))


def test_lying_central_directory_is_bounded():
    data = bytearray(checkpoint_bytes(lamina.ones(4)))
    eocd = data.rfind(b"PK\x05\x06")
    e64 = data.rfind(b"PK\x06\x06")
    bad = bytearray(data)
    struct.pack_into("<Q", bad, e64 + 40, 2 ** 62)  # central directory size
    with pytest.raises(CheckpointError, match="does not fit"):
        lamina.load(io.BytesIO(bytes(bad)))
    bad = bytearray(data)
    struct.pack_into("<Q", bad, e64 + 32, 10 ** 9)  # number of records
    with pytest.raises(CheckpointError, match="records in a"):
        lamina.load(io.BytesIO(bytes(bad)))
    # a record whose local header offset points past the end of the file
    cd = data.find(b"PK\x01\x02")
    bad = bytearray(data)
    struct.pack_into("<I", bad, cd + 42, len(data) + 10)
    with pytest.raises(CheckpointError, match="beyond the end"):
        lamina.load(io.BytesIO(bytes(bad)))
    assert eocd > e64


def test_reader_reads_torch_files_record_by_record(tmp_path):
    torch.save({"x": torch.arange(5)}, tmp_path / "t.pt")
    with open(tmp_path / "t.pt", "rb") as f:
        r = _zipformat.ZipReader(f)
        assert r.top == "t"
        assert r.read("byteorder") == b"little"
        e = r.entry("data/0")
        out = np.empty(e.size, np.uint8)
        r.readinto(e, out)
        np.testing.assert_array_equal(out.view("<i8"), np.arange(5))
        assert r.data_offset(e) % 64 == 0
        with pytest.raises(CheckpointError, match="no record"):
            r.entry("data/9")


def test_large_records_read_in_parallel_equal_the_data(tmp_path):
    # records of 8 MB and more are read with two positional reads; BytesIO takes the plain path
    import io

    import lamina
    from lamina.serialization import _zipformat

    big = lamina.randn(_zipformat._PARALLEL_READ_MIN // 4 + 12345)
    sd = {"a": big, "b": lamina.arange(10)}
    path = tmp_path / "big.pt"
    lamina.save(sd, path)
    with open(path, "rb") as f:
        assert _zipformat._fileno(f) is not None
        via_file = lamina.load(f)
    via_path = lamina.load(path)
    via_bytes = lamina.load(io.BytesIO(path.read_bytes()))
    for got in (via_file, via_path, via_bytes):
        assert lamina.equal(got["a"], big) and lamina.equal(got["b"], sd["b"])
    assert _zipformat._fileno(io.BytesIO(b"")) is None
