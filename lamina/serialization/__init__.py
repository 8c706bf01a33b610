"""``lamina.save`` / ``lamina.load``: PyTorch's checkpoint format, safe and atomic.

Files are PyTorch's zip checkpoints (``archive/data.pkl`` + raw little-endian ``data/N``
records aligned to 64 bytes): ``torch.load(path, weights_only=True)`` reads what
``lamina.save`` writes, and ``lamina.load`` reads what ``torch.save`` writes without importing
torch. On top of torch's behaviour:

* ``lamina.load`` is safe by default (``weights_only=True``): its own restricted unpickler
  allows an explicit list of globals (tensors, parameters, containers, dtypes, devices,
  sizes) and checks every storage against the tensors that view it; a hostile pickle runs
  nothing. ``weights_only=False`` is for trusted files (whole pickled models).
* ``lamina.save`` to a path is atomic: it writes ``.<name>.<random>.tmp`` in the same
  directory, flushes, fsyncs and renames it over the target, so a failing or interrupted save
  never leaves a damaged checkpoint; a missing directory is a clear ``FileNotFoundError``.
* Corrupt files (truncated, random bytes, wrong members, storages shorter than their tensors)
  raise :class:`CheckpointError` (a ``RuntimeError``) or ``pickle.UnpicklingError``.

Legacy (pre-1.6, non-zip) and TorchScript files are refused with an explanation.
"""

from __future__ import annotations

import io
import os
import pickle
import secrets
import stat
import sys

import numpy as np

from .._device import to_device
from ._atomic import AtomicFile, StreamSink
from ._pickler import pickle_with_storages
from ._rebuild import LoadedStorage, StorageType, _check_cuda
from ._unpickler import (FullUnpickler, UnpicklingError, WeightsUnpickler, add_safe_globals,
                         clear_safe_globals, get_safe_globals, safe_globals)
from ._zipformat import CheckpointError, ZipReader, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "CheckpointError", "LoadedStorage", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
_FORMAT_VERSION = "3\n"  # what torch 2.x writes in archive/version


# ---------------------------------------------------------------------------------------- save
def save(obj, f, pickle_module=None, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False
         ) -> None:
    """Save ``obj`` (tensors, state_dicts, containers, whole modules) in torch's zip format.

    Args:
        obj: what to save. Tensors sharing memory (tied weights, views) are written once and
            stay shared when loaded.
        f: a path (``str`` / ``os.PathLike``) or a writable binary file object. A path is
            written atomically (temp file + fsync + rename).
        pickle_module: accepted for torch compatibility; only Python's ``pickle`` is used.
        pickle_protocol: the pickle protocol (2, torch's default, up to 5).

    Only regular files (or new paths) are replaced atomically; a character device such as
    ``/dev/null`` is written through (as torch does) and never replaced. Temp files are
    ``.<name>.lamina-tmp-<pid>-<random>``; those left by a killed save are removed by the next
    save to the same path.

    Raises:
        FileNotFoundError: the path's directory does not exist.
        PermissionError: the target file is read-only (for root too: a file without any write
            permission bit, e.g. mode 0444, is never replaced).
        OSError: the target is a FIFO, a socket or a block device.
        RuntimeError / pickle.PicklingError: ``obj`` cannot be saved (the target is untouched).

    Example:
        >>> import lamina, io
        >>> buf = io.BytesIO()
        >>> lamina.save({"w": lamina.ones(2)}, buf)
        >>> _ = buf.seek(0)
        >>> lamina.load(buf)["w"]
        tensor([1., 1.])
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError(f"lamina.save: pickle_module must be pickle (or None); got "
                         f"{getattr(pickle_module, '__name__', pickle_module)!r}")
    if not _use_new_zipfile_serialization:
        raise ValueError("lamina.save: only the zip format is written "
                         "(_use_new_zipfile_serialization=False is not supported)")
    if not isinstance(pickle_protocol, int) or not 2 <= pickle_protocol <= 5:
        raise ValueError(f"lamina.save: pickle_protocol must be 2..5; got {pickle_protocol!r}")
    is_path = isinstance(f, (str, os.PathLike))
    if not is_path and not callable(getattr(f, "write", None)):
        raise TypeError(f"lamina.save: f must be a path or a writable binary file object; got "
                        f"{type(f).__name__}")
    # pickle first: an object that fails to pickle never touches the file system
    data_pkl, storages = pickle_with_storages(obj, pickle_protocol)
    if is_path:
        with AtomicFile(f) as sink:
            name = os.path.splitext(os.path.basename(sink.path))[0]
            _write_archive(sink, _archive_name(name), data_pkl, storages,
                           _disable_byteorder_record)
            sink.commit()
    else:
        _write_archive(StreamSink(f), "archive", data_pkl, storages, _disable_byteorder_record)
        flush = getattr(f, "flush", None)
        if flush is not None:
            flush()


def _archive_name(stem: str) -> str:
    # torch names the top folder after the file; keep it a plain, portable folder name
    clean = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in stem)
    return clean or "archive"


def _write_archive(sink, name, data_pkl, storages, disable_byteorder) -> None:
    z = ZipWriter(sink, name)
    z.write_record("data.pkl", data_pkl)
    z.write_record(".format_version", "1")
    z.write_record(".storage_alignment", "64")
    if not disable_byteorder:
        z.write_record("byteorder", "little")
    for ref in storages:
        z.write_record(f"data/{ref.key}", ref.payload())
    z.write_record("version", _FORMAT_VERSION)
    z.write_record(".data/serialization_id", "".join(str(secrets.randbelow(10))
                                                     for _ in range(40)))
    z.finish()


# ---------------------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = True,
         mmap: bool | None = None, verify_crc: bool = False, **pickle_load_args):
    """Load an object saved with ``lamina.save`` or ``torch.save`` (torch is not imported).

    Args:
        f: a path or a readable, seekable binary file object (a pipe or socket raises
            ``io.UnsupportedOperation``, as in torch: read it into ``io.BytesIO`` first).
        map_location: where storages go: ``None`` (where they were saved), a device string
            or ``lamina.device`` (all storages), a dict mapping saved locations to new ones
            (``{'cuda:0': 'cpu'}``), or a callable ``fn(storage, location)`` returning a
            storage (``storage.cpu()``, ``storage.cuda(1)``, the storage itself) or None.
        pickle_module: accepted for torch compatibility; must be None or ``pickle``.
        weights_only: True (default): only tensors, parameters, containers, dtypes, devices
            and sizes (plus :func:`add_safe_globals`). False: any pickled object (trusted
            files only: unpickling can run code).
        mmap: map the file's records into memory instead of reading them (cpu storages are
            copy-on-write views of the file: nothing is read up front, the file never
            changes). Needs a path or a real file.
        verify_crc: check every record's CRC-32 against the zip directory (lamina only;
            torch never does). Records under 1 MB (the pickle, small tensors) are always
            checked; big tensor records only when this is True, because the check costs more
            than reading them. Not done for ``mmap=True`` loads (nothing is read up front).
        encoding: how to decode Python 2 strings (torch's ``pickle_load_args``).

    Raises:
        CheckpointError: the file is not a (readable) checkpoint.
        pickle.UnpicklingError: the pickle is malformed or uses a global that is not allowed.
        RuntimeError: a storage is on a device this machine does not have (use map_location).
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("lamina.load: pickle_module must be None or pickle")
    if weights_only is None:
        weights_only = True
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"lamina.load() got unexpected keyword arguments "
                        f"{sorted(pickle_load_args)}")
    opened = None
    if isinstance(f, (str, os.PathLike)):
        try:
            mode = os.stat(f).st_mode
        except OSError:
            mode = 0  # open() below gives the error
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):  # opening a FIFO would block
            raise io.UnsupportedOperation(
                f"lamina.load: '{os.fspath(f)}' is a {'FIFO' if stat.S_ISFIFO(mode) else 'socket'}"
                f", which is not seekable; a checkpoint is read with random access. Copy it to "
                f"a regular file (or read it into io.BytesIO) first.")
        try:
            opened = open(f, "rb", buffering=0)  # noqa: SIM115 - closed below
        except IsADirectoryError:
            raise IsADirectoryError(f"lamina.load: '{os.fspath(f)}' is a directory; expected "
                                    f"a checkpoint file") from None
        fobj = opened
        what = f"'{os.fspath(f)}'"
        if not opened.seekable():  # a FIFO, a character device
            opened.close()
            raise io.UnsupportedOperation(
                f"lamina.load: {what} is not seekable (a pipe or a device?); a checkpoint "
                f"is read with random access. Copy it to a regular file first.")
    elif isinstance(f, (bytes, bytearray, memoryview)):
        raise TypeError("lamina.load: f must be a path or a file object; wrap bytes in "
                        "io.BytesIO(data)")
    elif callable(getattr(f, "read", None)):
        fobj = f
        what = "the checkpoint"
        if not (getattr(f, "seekable", None) and f.seekable()):
            # as torch: never buffer a stream without bound (an endless writer would fill
            # the memory)
            raise io.UnsupportedOperation(
                "lamina.load: the file object is not seekable. You can only load from a file "
                "that is seekable. Please pre-load the data into a buffer like io.BytesIO and "
                "try to load from it instead.")
    else:
        raise TypeError(f"lamina.load: f must be a path or a readable binary file object; got "
                        f"{type(f).__name__}")
    try:
        return _load(fobj, what, map_location, weights_only, bool(mmap), encoding,
                     bool(verify_crc))
    finally:
        if opened is not None:
            opened.close()


def _sniff(fobj, what):
    start = fobj.tell() if hasattr(fobj, "tell") else 0
    head = fobj.read(8)
    fobj.seek(start)
    if len(head) == 0:
        raise CheckpointError(f"lamina.load: {what} is empty")
    if head[:2] == b"PK":
        return
    if head[:1] == b"\x80":
        raise CheckpointError(
            f"lamina.load: {what} is in torch's legacy (pre-1.6, non-zip) format, which lamina "
            f"does not read. Convert it once with torch: "
            f"torch.save(torch.load(old_path, weights_only=True), new_path)")
    raise CheckpointError(f"lamina.load: {what} is not a checkpoint (it does not start like a "
                          f"zip archive; first bytes {head!r})")


def _load(fobj, what, map_location, weights_only, use_mmap, encoding, verify_crc=False):
    _sniff(fobj, what)
    reader = ZipReader(fobj, what)
    if reader.has("constants.pkl") or reader.has("code/__torch__.py"):
        raise CheckpointError(f"lamina.load: {what} is a TorchScript archive (torch.jit.save); "
                              f"lamina loads torch.save checkpoints only")
    if not reader.has("data.pkl"):
        raise CheckpointError(f"lamina.load: {what} has no '{reader.top}/data.pkl' record; it "
                              f"is a zip archive but not a torch checkpoint")
    byteorder = "little"
    if reader.has("byteorder"):
        byteorder = reader.read("byteorder", limit=16).decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"lamina.load: {what} has an unknown byteorder "
                                  f"{byteorder!r}")
    mm_file = None
    if use_mmap:
        try:
            fobj.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            raise ValueError("lamina.load: mmap=True needs a file path (or a real file "
                             "object with fileno())") from None
        mm_file = fobj
    data_pkl = reader.read("data.pkl")
    ctx = _LoadContext(reader, _restorer(map_location), byteorder, mm_file, verify_crc)
    if weights_only:
        return WeightsUnpickler(data_pkl, ctx.persistent_load, encoding).load()
    return FullUnpickler(io.BytesIO(data_pkl), ctx.persistent_load, encoding=encoding).load()


class _LoadContext:
    """Reads each storage once (on its first persistent id) and moves it to its device."""

    __slots__ = ("reader", "restore", "byteswap", "mm_file", "mapping", "storages", "verify")

    def __init__(self, reader, restore, byteorder, mm_file, verify=False):
        self.reader = reader
        self.verify = verify
        self.restore = restore
        self.byteswap = byteorder != sys.byteorder
        self.mm_file = mm_file
        self.mapping = None
        self.storages: dict = {}

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) != 5:
            raise UnpicklingError(f"lamina.load: unsupported persistent id {pid!r}; expected "
                                  f"('storage', type, key, location, numel)")
        tag, stype, key, location, numel = pid
        if isinstance(tag, bytes):
            tag = tag.decode("ascii", "replace")
        if isinstance(location, bytes):
            location = location.decode("ascii", "replace")
        if isinstance(key, bytes):
            key = key.decode("ascii", "replace")
        if tag != "storage":
            raise UnpicklingError(f"lamina.load: only storages may be persistent ids; got "
                                  f"{tag!r}")
        if not isinstance(stype, StorageType):
            raise UnpicklingError(f"lamina.load: persistent id names {stype!r}, not a storage "
                                  f"type")
        if type(key) is not str or type(location) is not str or type(numel) is not int or \
                numel < 0:
            raise UnpicklingError(f"lamina.load: malformed storage id {pid!r}")
        if stype.np is None:
            from ._rebuild import _unsupported_dtype_error

            raise _unsupported_dtype_error(f"dtype {stype.torch_dtype} (torch.{stype.name})")
        st = self.storages.get(key)
        if st is not None:
            if st.np != stype.np:
                raise CheckpointError(f"lamina.load: storage 'data/{key}' is declared both as "
                                      f"{st.np} and as {stype.np}")
            return st
        entry = self.reader.entry(f"data/{key}")
        want = numel * stype.np.itemsize
        if entry.size != want:
            raise CheckpointError(
                f"lamina.load: storage {entry.name!r} holds {entry.size} bytes, but the pickle "
                f"declares {numel} elements of {stype.np} ({want} bytes); the checkpoint is "
                f"corrupt")
        host = self._read(entry)
        if self.byteswap and stype.np.itemsize > 1:
            host = host.view(stype.np).byteswap().view(np.uint8)
        st = self.restore(LoadedStorage(host, to_device("cpu"), stype.np, entry.name), location)
        self.storages[key] = st
        return st

    def _read(self, entry):
        if self.mm_file is not None:
            off = self.reader.data_offset(entry)
            if entry.size == 0:
                return np.empty(0, np.uint8)
            if self.mapping is None:
                import mmap

                # one copy-on-write mapping of the whole file (MAP_PRIVATE, as torch's mmap
                # loads): arrays are writable, the file never changes, and a checkpoint with
                # thousands of storages costs one file descriptor, not one per storage
                self.mapping = mmap.mmap(self.mm_file.fileno(), 0, access=mmap.ACCESS_COPY)
            # each storage is its own root array (its .base is the mapping, not an array), so
            # saving these tensors again writes each storage's own bytes only
            return np.frombuffer(self.mapping, np.uint8, count=entry.size, offset=off)
        out = np.empty(entry.size, np.uint8)
        self.reader.readinto(entry, out, self.verify)
        return out


def _restore_default(storage: LoadedStorage, location: str) -> LoadedStorage:
    try:
        dev = to_device(location)
    except (RuntimeError, TypeError, ValueError):
        raise RuntimeError(f"don't know how to restore data location of a storage (tagged with "
                           f"{location}); lamina knows 'cpu' and 'cuda:N'. Use "
                           f"map_location='cpu' to load it on the CPU.") from None
    if dev.type == "cpu":
        return storage if storage.device.type == "cpu" else storage.cpu()
    if dev.type == "cuda":
        _check_cuda(dev)
        return storage.to(dev)
    raise RuntimeError(f"lamina.load: cannot restore a storage to the '{dev}' device; use "
                       f"map_location='cpu'")


def _restorer(map_location):
    """map_location (None, str, device, dict, callable) -> fn(storage, location) -> storage."""
    if map_location is None:
        return _restore_default
    from .._device import device as _device

    if isinstance(map_location, (str, _device)):
        target = str(map_location)
        return lambda storage, location: _restore_default(storage, target)
    if isinstance(map_location, dict):
        mapping = {str(k): str(v) for k, v in map_location.items()}
        return lambda storage, location: _restore_default(storage,
                                                          mapping.get(location, location))
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            if result is None:
                return _restore_default(storage, location)
            if isinstance(result, LoadedStorage):
                return result
            if isinstance(result, (str, _device)):
                return _restore_default(storage, str(result))
            raise TypeError(f"lamina.load: map_location returned {type(result).__name__}; "
                            f"expected a storage (e.g. storage.cpu()), None or a device")
        return restore
    raise TypeError(f"lamina.load: map_location must be None, a str, a lamina.device, a dict or "
                    f"a callable; got {type(map_location).__name__}")

