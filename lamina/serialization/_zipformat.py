"""PyTorch's checkpoint container: a zip archive of stored (uncompressed) records.

The writer reproduces what ``torch.save`` writes (through miniz in
``caffe2/serialize/inline_container.cc``):

* every record lives under one top folder (``archive/data.pkl``, ``archive/data/0`` ...);
* a record's bytes start at a multiple of 64 in the file: the local header carries an extra
  field with id ``FB`` whose payload is padding;
* local headers hold zeros for CRC and sizes (flag bit 3), and a data descriptor
  (``PK\\x07\\x08``, CRC, sizes) follows each non-empty record; empty records carry no
  descriptor;
* the central directory gets zip64 extra fields only where a size or offset needs 64 bits,
  and the archive always ends with a zip64 end record, its locator and the classic end record.

The reader parses the central directory itself (every field bounds-checked against the file
size, so a corrupt or hostile file gives a clear :class:`CheckpointError`), finds each record's
data offset from its local header, and reads records straight into caller-owned buffers.
"""

from __future__ import annotations

import os

import struct
import zlib

__all__ = ["CheckpointError", "ZipWriter", "ZipReader"]


class CheckpointError(RuntimeError):
    """A checkpoint file is malformed, truncated or inconsistent (not a pickle-safety refusal)."""


ALIGNMENT = 64
ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets at or above this need zip64 fields

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_EOCD64 = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_LOCATOR64 = struct.Struct("<IIQI")  # 20 bytes
_DESC32 = struct.Struct("<IIII")
_DESC64 = struct.Struct("<IIQQ")

_SIG_LOCAL = 0x04034B50
_SIG_CENTRAL = 0x02014B50
_SIG_EOCD = 0x06054B50
_SIG_EOCD64 = 0x06064B50
_SIG_LOCATOR64 = 0x07064B50
_SIG_DESC = 0x08074B50
_FLAG_DESCRIPTOR = 0x0008
_FLAG_UTF8 = 0x0800
_FB = 0x4246  # b"FB": the padding extra field torch's writer uses

# Writes above this size go out in slices, so the caller's sink can start write-back early.
_CHUNK = 32 << 20
_THREAD_MIN = 4 << 20  # records from this size get their CRC computed in a helper thread


class ZipWriter:
    """Append-only writer of a torch-compatible archive to ``sink`` (never seeks).

    Args:
        sink: an object with ``write(memoryview)`` that writes every byte it is given.
        archive_name: the top folder every record is stored under.
        zip64_limit: sizes/offsets at or above it get zip64 fields (default
            :data:`ZIP64_LIMIT`, which tests lower).
    """

    __slots__ = ("_sink", "_prefix", "_pos", "_entries", "_buf", "_zip64_limit", "_names")

    def __init__(self, sink, archive_name: str, zip64_limit: int | None = None):
        self._sink = sink
        self._prefix = archive_name + "/"
        self._pos = 0
        self._entries: list = []
        self._names: set = set()
        self._buf = bytearray()
        self._zip64_limit = ZIP64_LIMIT if zip64_limit is None else zip64_limit

    def _flush(self) -> None:
        if self._buf:
            self._sink.write(memoryview(self._buf))
            self._buf = bytearray()

    def write_record(self, name: str, data) -> None:
        """Store ``data`` (bytes, str or a C-contiguous buffer) as ``<archive>/<name>``."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        mv = memoryview(data)
        if mv.ndim != 1 or mv.itemsize != 1:
            mv = mv.cast("B")
        full = self._prefix + name
        if full in self._names:
            raise ValueError(f"ZipWriter.write_record: record {full!r} written twice")
        self._names.add(full)
        bname = full.encode("utf-8")
        size = mv.nbytes
        offset = self._pos
        flags = _FLAG_UTF8 | (_FLAG_DESCRIPTOR if size else 0)
        pad = (-(offset + _LOCAL.size + len(bname) + 4)) % ALIGNMENT
        header = _LOCAL.pack(_SIG_LOCAL, 0, flags, 0, 0, 0, 0, 0, 0, len(bname), 4 + pad)
        buf = self._buf
        buf += header
        buf += bname
        buf += struct.pack("<HH", _FB, pad)
        buf += bytes(pad)
        self._pos += _LOCAL.size + len(bname) + 4 + pad
        if size <= (1 << 16):
            buf += mv
            crc = zlib.crc32(mv)
        else:
            # big records go straight from the caller's memory to the sink (no copy); the
            # CRC runs in a second thread meanwhile (zlib and file writes release the GIL)
            self._flush()
            crc = _crc_while(mv, self._sink.write)
        self._pos += size
        if size:
            if size >= self._zip64_limit or offset >= self._zip64_limit:
                self._buf += _DESC64.pack(_SIG_DESC, crc, size, size)
                self._pos += _DESC64.size
            else:
                self._buf += _DESC32.pack(_SIG_DESC, crc, size, size)
                self._pos += _DESC32.size
        self._entries.append((bname, offset, size, crc, flags))

    def finish(self) -> None:
        """Write the central directory and the end records; flush everything to the sink."""
        lim = self._zip64_limit
        cd_start = self._pos
        cd = bytearray()
        for bname, offset, size, crc, flags in self._entries:
            extra = b""
            fields = []
            if size >= lim:
                fields += [size, size]
            if offset >= lim:
                fields.append(offset)
            if fields:
                extra = struct.pack(f"<HH{len(fields)}Q", 0x0001, 8 * len(fields), *fields)
            s32 = 0xFFFFFFFF if size >= lim else size
            o32 = 0xFFFFFFFF if offset >= lim else offset
            cd += _CENTRAL.pack(_SIG_CENTRAL, 0, 45 if fields else 0, flags, 0, 0, 0, crc, s32,
                                s32, len(bname), len(extra), 0, 0, 0, 0, o32)
            cd += bname
            cd += extra
        n = len(self._entries)
        eocd64_pos = cd_start + len(cd)
        cd += _EOCD64.pack(_SIG_EOCD64, 44, 0x031E, 45, 0, 0, n, n, eocd64_pos - cd_start,
                           cd_start)
        cd += _LOCATOR64.pack(_SIG_LOCATOR64, 0, eocd64_pos, 1)
        cd_size = eocd64_pos - cd_start
        cd += _EOCD.pack(_SIG_EOCD, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                         min(cd_size, 0xFFFFFFFF), min(cd_start, 0xFFFFFFFF), 0)
        self._buf += cd
        self._pos += len(cd)
        self._flush()


def _crc_while(mv, write) -> int:
    """zlib.crc32(mv), computed in a helper thread while ``write`` consumes ``mv``."""
    if mv.nbytes < _THREAD_MIN:
        for start in range(0, mv.nbytes, _CHUNK):
            write(mv[start:start + _CHUNK])
        return zlib.crc32(mv)
    import threading

    out = []
    th = threading.Thread(target=lambda: out.append(zlib.crc32(mv)), daemon=True)
    th.start()
    try:
        for start in range(0, mv.nbytes, _CHUNK):
            write(mv[start:start + _CHUNK])
    finally:
        th.join()
    return out[0]


class _Entry:
    __slots__ = ("name", "header_offset", "size", "method", "flags", "crc", "_data_offset")

    def __init__(self, name, header_offset, size, method, flags, crc=None):
        self.name = name
        self.header_offset = header_offset
        self.size = size
        self.method = method
        self.flags = flags
        self.crc = crc
        self._data_offset = None


_PARALLEL_READ_MIN = 8 << 20
# records smaller than this are always CRC-checked on load (the cost is noise); bigger ones
# only with lamina.load(..., verify_crc=True): zlib.crc32 runs at ~1.3 GB/s, slower than the
# reads themselves, and would more than double a large load's time
CRC_ALWAYS_BELOW = 1 << 20
_pool = None


def _read_pool():
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lamina-read")
    return _pool


def _fileno(f):
    """The OS file descriptor behind ``f`` when positional reads can serve it, else None."""
    if not hasattr(os, "preadv"):
        return None
    try:
        return f.fileno()
    except (AttributeError, OSError, ValueError):  # BytesIO, sockets-like wrappers, closed
        return None


def _pread_into(fd: int, mv, off: int) -> int:
    """Fill ``mv`` from ``fd`` at ``off`` (short reads continued); returns the bytes read."""
    got, n = 0, mv.nbytes
    while got < n:
        k = os.preadv(fd, [mv[got:]], off + got)
        if not k:
            break
        got += k
    return got


class ZipReader:
    """Random access to the stored records of a zip archive in a seekable binary file.

    Args:
        f: a readable, seekable binary file (``readinto`` is used when present).
        what: how to name the file in error messages.

    Raises:
        CheckpointError: the file is not a zip archive, is truncated or inconsistent.
    """

    __slots__ = ("_f", "_size", "_what", "entries", "top", "_base")

    def __init__(self, f, what: str = "the checkpoint"):
        self._f = f
        self._what = what
        f.seek(0, 2)
        self._size = size = f.tell()
        self._base = 0
        self.entries: dict[str, _Entry] = {}
        if size < _EOCD.size:
            raise self._error(f"is {size} bytes long, too short for a zip archive (truncated?)")
        tail_len = min(size, _EOCD.size + 0xFFFF + _LOCATOR64.size)
        tail = self._pread(size - tail_len, tail_len)
        pos = tail.rfind(b"PK\x05\x06")
        while pos >= 0:
            if pos + _EOCD.size <= len(tail):
                clen = struct.unpack_from("<H", tail, pos + 20)[0]
                if pos + _EOCD.size + clen == len(tail):
                    break
            pos = tail.rfind(b"PK\x05\x06", 0, pos)
        if pos < 0:
            raise self._error("has no zip end-of-central-directory record: it is not a zip "
                              "archive, or it was truncated")
        eocd_at = size - tail_len + pos
        (_, disk, cd_disk, _n_disk, n, cd_size, cd_off, _) = _EOCD.unpack_from(tail, pos)
        cd_end = eocd_at
        loc_at = eocd_at - _LOCATOR64.size
        if loc_at >= 0 and self._pread(loc_at, 4) == b"PK\x06\x07":
            _, _, eocd64_off, ndisks = _LOCATOR64.unpack(self._pread(loc_at, _LOCATOR64.size))
            # usually right before the locator; else where the locator says (no prefix bytes)
            eocd64_at = loc_at - _EOCD64.size
            if eocd64_at < 0 or self._pread(eocd64_at, 4) != b"PK\x06\x06":
                eocd64_at = eocd64_off
                if eocd64_at + _EOCD64.size > loc_at or \
                        self._pread(eocd64_at, 4) != b"PK\x06\x06":
                    raise self._error("has a zip64 locator but no zip64 end record")
            (_, _, _, _, disk, cd_disk, _n_disk, n, cd_size, cd_off) = _EOCD64.unpack(
                self._pread(eocd64_at, _EOCD64.size))
            cd_end = eocd64_at
        if disk != 0 or cd_disk != 0:
            raise self._error("is a multi-part zip archive, which is not supported")
        base = cd_end - cd_size - cd_off  # > 0 when bytes were prepended to the archive
        if base < 0 or cd_size < 0:
            raise self._error(f"declares a central directory ({cd_size} bytes at offset "
                              f"{cd_off}) that does not fit in its {size} bytes (truncated?)")
        if n * _CENTRAL.size > cd_size:
            raise self._error(f"declares {n} records in a {cd_size}-byte central directory")
        self._base = base
        cd = self._pread(cd_off + base, cd_size)
        p = 0
        for _ in range(n):
            if p + _CENTRAL.size > cd_size:
                raise self._error("has a truncated central directory")
            (sig, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, _, _, _,
             hoff) = _CENTRAL.unpack_from(cd, p)
            if sig != _SIG_CENTRAL:
                raise self._error("has a corrupt central directory (bad entry signature)")
            p += _CENTRAL.size
            if p + nlen + elen + clen > cd_size:
                raise self._error("has a truncated central directory")
            raw = bytes(cd[p:p + nlen])
            name = raw.decode("utf-8" if flags & _FLAG_UTF8 else "cp437", "replace")
            extra = cd[p + nlen:p + nlen + elen]
            p += nlen + elen + clen
            if 0xFFFFFFFF in (usize, csize, hoff):
                usize, csize, hoff = self._zip64_fields(extra, usize, csize, hoff, name)
            if flags & 0x1:
                raise self._error(f"has an encrypted record {name!r}")
            if name in self.entries:
                raise self._error(f"has the record {name!r} twice")
            if method == 0 and csize != usize:
                raise self._error(f"record {name!r} is stored with {csize} bytes but declares "
                                  f"{usize}")
            if hoff + base + _LOCAL.size > size or csize > size:
                raise self._error(f"record {name!r} lies beyond the end of the file "
                                  f"(truncated?)")
            self.entries[name] = _Entry(name, hoff + base, csize, method, flags, crc)
        if not self.entries:
            raise self._error("is an empty zip archive")
        self._check_no_overlap(cd_off + base)
        first = next(iter(self.entries))
        if "/" not in first:
            raise self._error(f"is not a torch checkpoint: its first record {first!r} is not "
                              f"inside a folder (torch.save writes 'archive/data.pkl')")
        self.top = first.split("/", 1)[0]

    def _error(self, msg: str) -> CheckpointError:
        return CheckpointError(f"lamina.load: {self._what} {msg}")

    def _check_no_overlap(self, cd_start: int) -> None:
        """Every record (local header + data) lies in its own byte range before the central
        directory: many directory entries pointing at one big record would otherwise make a
        small file load the same bytes many times (CPython 3.12's zipfile refuses them too)."""
        spans = sorted(self.entries.values(), key=lambda e: e.header_offset)
        for e, nxt in zip(spans, spans[1:] + [None]):
            end = e.header_offset + _LOCAL.size + e.size
            limit = cd_start if nxt is None else nxt.header_offset
            if end > limit:
                other = "the central directory" if nxt is None else f"record {nxt.name!r}"
                raise self._error(f"has overlapping records: {e.name!r} ({e.size} bytes at "
                                  f"offset {e.header_offset}) runs into {other}")

    def _zip64_fields(self, extra, usize, csize, hoff, name):
        q = 0
        while q + 4 <= len(extra):
            hid, hlen = struct.unpack_from("<HH", extra, q)
            q += 4
            if hid == 0x0001:
                vals = list(struct.unpack_from(f"<{min(hlen, len(extra) - q) // 8}Q", extra, q))
                try:
                    if usize == 0xFFFFFFFF:
                        usize = vals.pop(0)
                    if csize == 0xFFFFFFFF:
                        csize = vals.pop(0)
                    if hoff == 0xFFFFFFFF:
                        hoff = vals.pop(0)
                except IndexError:
                    break
                return usize, csize, hoff
            q += hlen
        raise self._error(f"record {name!r} lacks the zip64 sizes its header refers to")

    def _pread(self, offset: int, n: int) -> bytes:
        f = self._f
        f.seek(offset)
        data = f.read(n)
        if len(data) != n:
            raise self._error(f"ended early: wanted {n} bytes at offset {offset}, file has "
                              f"{self._size} bytes (truncated?)")
        return data

    def name(self, record: str) -> str:
        """The full name of a record under the top folder."""
        return f"{self.top}/{record}"

    def has(self, record: str) -> bool:
        return f"{self.top}/{record}" in self.entries

    def entry(self, record: str) -> _Entry:
        e = self.entries.get(f"{self.top}/{record}")
        if e is None:
            raise self._error(f"has no record '{self.top}/{record}'")
        return e

    def data_offset(self, e: _Entry) -> int:
        """Where the record's bytes start in the file (checked against the file size)."""
        off = e._data_offset
        if off is None:
            if e.method != 0:
                raise self._error(f"record {e.name!r} is compressed (method {e.method}); "
                                  f"checkpoints store records uncompressed: re-save the file "
                                  f"with torch.save or lamina.save")
            hdr = self._pread(e.header_offset, _LOCAL.size)
            sig, *_, nlen, elen = _LOCAL.unpack(hdr)
            if sig != _SIG_LOCAL:
                raise self._error(f"record {e.name!r} has a corrupt local header")
            off = e.header_offset + _LOCAL.size + nlen + elen
            if off + e.size > self._size:
                raise self._error(f"record {e.name!r} needs {e.size} bytes at offset {off} but "
                                  f"the file has only {self._size} bytes (truncated?)")
            e._data_offset = off
        return off

    def read(self, record: str, limit: int | None = None) -> bytes:
        """The bytes of a (small) record, CRC-checked."""
        e = self.entry(record)
        if limit is not None and e.size > limit:
            raise self._error(f"record {e.name!r} is {e.size} bytes; expected at most {limit}")
        data = self._pread(self.data_offset(e), e.size)
        self.check_crc(e, data)
        return data

    def check_crc(self, e: _Entry, data) -> None:
        """Compare ``data`` (the record's bytes) with the CRC-32 of the central directory."""
        if e.crc is not None and zlib.crc32(data) != e.crc:
            raise self._error(f"record {e.name!r} fails its CRC-32 check (stored "
                              f"{e.crc:#010x}, computed {zlib.crc32(data):#010x}): the file "
                              f"is corrupt")

    def readinto(self, e: _Entry, out, verify: bool = False) -> None:
        """Fill the writable buffer ``out`` (exactly ``e.size`` bytes) with the record;
        ``verify`` (or a record under :data:`CRC_ALWAYS_BELOW` bytes): check its CRC-32."""
        self._readinto(e, out)
        if verify or e.size < CRC_ALWAYS_BELOW:
            self.check_crc(e, out)

    def _readinto(self, e: _Entry, out) -> None:
        off = self.data_offset(e)
        mv = memoryview(out).cast("B")
        if mv.nbytes != e.size:
            raise ValueError(f"readinto: buffer of {mv.nbytes} bytes for a {e.size}-byte record")
        f = self._f
        fd = _fileno(f) if e.size >= _PARALLEL_READ_MIN else None
        if fd is not None:
            # large records of a real file: two positional reads at once (the kernel's copy
            # and page faults run on two cores; torch's reader also splits big records)
            half = e.size // 2
            fut = _read_pool().submit(_pread_into, fd, mv[half:], off + half)
            first = _pread_into(fd, mv[:half], off)
            if first != half or fut.result() != e.size - half:
                raise self._error(f"ended inside record {e.name!r} (truncated?)")
            return
        f.seek(off)
        got = 0
        readinto = getattr(f, "readinto", None)
        while got < e.size:
            if readinto is not None:
                n = readinto(mv[got:])
            else:
                chunk = f.read(e.size - got)
                n = len(chunk)
                mv[got:got + n] = chunk
            if not n:
                raise self._error(f"ended inside record {e.name!r} (truncated?)")
            got += n
