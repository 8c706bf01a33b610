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


# ---------------------------------------------------------------- issue 13: hostile files
def _with_many_entries_pointing_at(data: bytes, record: str, copies: int) -> bytes:
    """The archive with ``copies`` extra central-directory entries aliasing ``record``."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo(record)
    eocd_at = data.rfind(b"PK\x05\x06")
    loc_at = data.rfind(b"PK\x06\x07")
    e64_at = data.rfind(b"PK\x06\x06")
    cd_start = e64_at - struct.unpack_from("<Q", data, e64_at + 40)[0]
    cd = data[cd_start:e64_at]
    # find the record's central entry and clone it under new names (same offset and size)
    entries = []
    q = 0
    while q < len(cd):
        nlen, elen, clen = struct.unpack_from("<HHH", cd, q + 28)
        entries.append(cd[q:q + 46 + nlen + elen + clen])
        q += 46 + nlen + elen + clen
    target = next(e for e in entries if e[46:46 + len(record)] == record.encode())
    assert info.file_size > 0
    extra = []
    for i in range(copies):
        name = f"archive/data/x{i}".encode()
        e = bytearray(target[:46]) + name + target[46 + len(record):]
        struct.pack_into("<H", e, 28, len(name))
        extra.append(bytes(e))
    new_cd = b"".join(entries + extra)
    n = len(entries) + copies
    e64 = bytearray(data[e64_at:loc_at])
    struct.pack_into("<QQQ", e64, 24, n, n, len(new_cd))
    new_e64_at = cd_start + len(new_cd)
    loc = bytearray(data[loc_at:eocd_at])
    struct.pack_into("<Q", loc, 8, new_e64_at)
    eocd = bytearray(data[eocd_at:])
    struct.pack_into("<HHI", eocd, 8, n, n, len(new_cd))
    return data[:cd_start] + new_cd + bytes(e64) + bytes(loc) + bytes(eocd)


def test_overlapping_records_are_refused():
    # many directory entries aliasing one big record: a small file, many reads of it
    data = checkpoint_bytes({"w": lamina.zeros(1 << 16)})
    bad = _with_many_entries_pointing_at(data, "archive/data/0", 50)
    assert len(zipfile.ZipFile(io.BytesIO(bad)).namelist()) > 50  # a structurally valid zip
    with pytest.raises(CheckpointError, match="overlapping records"):
        _zipformat.ZipReader(io.BytesIO(bad))
    with pytest.raises(CheckpointError, match="overlapping records"):
        lamina.load(io.BytesIO(bad))


def test_lamina_and_torch_files_have_no_overlaps(tmp_path):
    torch.save({"a": torch.ones(3), "b": torch.zeros(0), "c": torch.arange(5)}, tmp_path / "t")
    out = lamina.load(tmp_path / "t")
    assert out["b"].shape == (0,) and out["c"].tolist() == [0, 1, 2, 3, 4]


def _flip_in_record(data: bytes, record: str, at: int = 0) -> bytes:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(record)
    h = info.header_offset
    nlen, elen = struct.unpack_from("<HH", data, h + 26)
    pos = h + 30 + nlen + elen + at
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]


def test_bit_flip_in_small_records_fails_the_crc_check():
    data = checkpoint_bytes({"w": lamina.arange(6.0)})
    bad = _flip_in_record(data, "archive/data/0", 5)
    with pytest.raises(CheckpointError, match="CRC-32"):
        lamina.load(io.BytesIO(bad))


def test_big_records_are_crc_checked_only_when_asked():
    n = _zipformat.CRC_ALWAYS_BELOW // 4 + 16
    data = checkpoint_bytes({"w": lamina.zeros(n)})
    bad = _flip_in_record(data, "archive/data/0", 1000)
    assert lamina.load(io.BytesIO(bad))["w"].shape == (n,)  # torch's behaviour: no check
    with pytest.raises(CheckpointError, match="CRC-32"):
        lamina.load(io.BytesIO(bad), verify_crc=True)
    assert lamina.load(io.BytesIO(data), verify_crc=True)["w"].shape == (n,)


def test_torch_files_pass_the_crc_check(tmp_path):
    torch.save({"w": torch.randn(300_000), "s": torch.ones(2)}, tmp_path / "t.pt")
    out = lamina.load(tmp_path / "t.pt", verify_crc=True)
    assert out["w"].shape == (300_000,)
