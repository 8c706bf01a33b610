"""Atomic file replacement: write a temp file beside the target, fsync it, rename it over.

A crash or an exception at any point leaves either the old file or the new one under the
target name, never a mix; a failed save also removes its temp file. A process killed with
SIGKILL cannot clean up: its ``.<name>.lamina-tmp-<pid>-<random>`` file stays (the old
checkpoint is intact) until the next save to the same path removes it (its pid is gone).

Only regular files are replaced: a character device (``/dev/null``) is written through, as
torch does; a FIFO, socket or block device is refused, and so is a read-only file.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

__all__ = ["AtomicFile", "StreamSink", "resolve_target", "target_kind", "remove_stale_temps"]

_WRITEBACK_STEP = 32 << 20  # start disk write-back every 32 MB so the final fsync waits less


def _sync_file_range():
    """libc's sync_file_range (Linux), or None: lets write-back overlap with the writing."""
    if not hasattr(os, "sched_getaffinity"):  # cheap "is this Linux" test
        return None
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.sync_file_range
        fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
        fn.restype = ctypes.c_int
        return fn
    except (OSError, AttributeError):
        return None


_SFR = None
_SFR_LOADED = False
_SYNC_FILE_RANGE_WRITE = 2


_TMP_TAG = ".lamina-tmp-"


def _tmp_prefix(path: str) -> str:
    """Temp files of a save to ``path`` are ``.<name>.lamina-tmp-<pid>-<random>``."""
    return f".{os.path.basename(path)}{_TMP_TAG}"


def resolve_target(path, where: str = "lamina.save") -> str:
    """The real file a save to ``path`` must replace, with clear errors for bad paths."""
    p = os.fsdecode(os.fspath(path))
    if os.path.islink(p):
        p = os.path.realpath(p)  # replace the link's target, not the link
    if os.path.isdir(p):
        raise IsADirectoryError(errno.EISDIR, f"{where}: '{p}' is a directory; expected a file "
                                f"path such as '{os.path.join(p, 'model.pt')}'", p)
    d = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(d):
        raise FileNotFoundError(errno.ENOENT, f"{where}: the directory '{d}' does not exist; "
                                f"create it first (os.makedirs({d!r}, exist_ok=True))", p)
    return p


def target_kind(path: str, where: str = "lamina.save") -> str:
    """'new' (no file yet), 'regular' (replace atomically) or 'device' (a character device
    such as /dev/null: written through, like torch; never replaced).

    Raises:
        PermissionError: the file is read-only: not writable by this user, or (as root, who
            may write anything) without any write permission bit, e.g. mode 0444.
        OSError: a FIFO, a socket or a block device (refused: a save to a FIFO blocks until
            a reader comes, and replacing a device node would destroy it).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "new"
    mode = st.st_mode
    if stat.S_ISCHR(mode):
        return "device"
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if
                stat.S_ISSOCK(mode) else "a block device" if stat.S_ISBLK(mode) else
                "not a regular file")
        raise OSError(errno.EINVAL, f"{where}: '{path}' is {kind}; lamina saves to regular "
                      f"files (replaced atomically) or character devices. To stream a "
                      f"checkpoint, pass an open binary file object instead", path)
    if not os.access(path, os.W_OK) or not mode & 0o222:
        # torch opens the file for writing and gets EACCES; lamina replaces the file instead
        # of writing into it, which the directory's permissions alone would allow, so the
        # file's own permission is checked here (root included: a 0444 file is kept)
        raise PermissionError(errno.EACCES, f"{where}: Permission denied: '{path}' is "
                              f"read-only (mode {stat.filemode(mode)})", path)
    return "regular"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temps(path: str) -> list:
    """Delete temp files left beside ``path`` by saves whose process is gone (killed before
    it could clean up). Returns the names removed. A temp whose writer pid is alive (or
    reused by another process) is kept."""
    d = os.path.dirname(os.path.abspath(path))
    prefix = _tmp_prefix(path)
    removed = []
    try:
        names = os.listdir(d)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_s, _, rand = name[len(prefix):].partition("-")
        if not pid_s.isdigit() or not rand or int(pid_s) == os.getpid() or _pid_alive(
                int(pid_s)):
            continue
        full = os.path.join(d, name)
        try:
            if stat.S_ISREG(os.lstat(full).st_mode):
                os.unlink(full)
                removed.append(name)
        except OSError:
            pass
    return removed


class AtomicFile:
    """A sink whose content replaces ``path`` only when :meth:`commit` succeeds.

    Use as ``with AtomicFile(path) as sink: sink.write(...); sink.commit()``; leaving the block
    without ``commit`` (an exception) removes the temp file and keeps the old ``path``.

    Only regular files (and new paths) are replaced: a character device (``/dev/null``) is
    written through, not replaced; FIFOs, sockets, block devices and read-only files are
    refused (see :func:`target_kind`). The temp file is
    ``.<name>.lamina-tmp-<pid>-<random>`` in the target's directory; those of writers that
    were killed are removed by the next save to the same path.
    """

    __slots__ = ("path", "tmp", "_f", "_fd", "_written", "_synced", "_done", "_direct")

    def __init__(self, path, where: str = "lamina.save"):
        self.path = resolve_target(path, where)
        self._written = 0
        self._synced = 0
        self._done = False
        self._direct = target_kind(self.path, where) == "device"
        if self._direct:
            self.tmp = None
            self._f = open(self.path, "wb", buffering=0)  # noqa: SIM115 - closed in commit
            self._fd = self._f.fileno()
            return
        remove_stale_temps(self.path)
        d = os.path.dirname(os.path.abspath(self.path))
        prefix = _tmp_prefix(self.path)
        for _ in range(100):
            tmp = os.path.join(d, f"{prefix}{os.getpid()}-{secrets.token_hex(6)}")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                             getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, f"{where}: no free temp file name in '{d}'")
        self.tmp = tmp
        self._fd = fd
        self._f = os.fdopen(fd, "wb", buffering=0)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    def write(self, data) -> None:
        """Write every byte of ``data`` (a bytes-like object), without copying it."""
        mv = memoryview(data)
        n = mv.nbytes
        if mv.ndim != 1 or mv.itemsize != 1:
            mv = mv.cast("B")
        write = self._f.write
        done = 0
        while done < n:
            k = write(mv[done:])
            if not k:
                raise OSError(errno.EIO, f"short write to {self.tmp or self.path}")
            done += k
        self._written += n
        if self._written - self._synced >= _WRITEBACK_STEP and not self._direct:
            self._start_writeback()

    def _start_writeback(self) -> None:
        global _SFR, _SFR_LOADED
        if not _SFR_LOADED:
            _SFR, _SFR_LOADED = _sync_file_range(), True
        if _SFR is not None:
            _SFR(self._fd, self._synced, self._written - self._synced, _SYNC_FILE_RANGE_WRITE)
        self._synced = self._written

    def commit(self) -> None:
        """fsync the temp file, give it the target's permissions, rename it over the target."""
        f = self._f
        if self._direct:  # a device: the bytes went straight to it
            self._done = True
            f.close()
            return
        os.fsync(f.fileno())
        try:
            st = os.stat(self.path)
            mode = st.st_mode & 0o7777
            if not stat.S_ISREG(st.st_mode):  # became something else while we wrote
                raise OSError(errno.EINVAL, f"lamina.save: '{self.path}' is no longer a "
                              f"regular file; not replacing it", self.path)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(f.fileno(), mode)
        f.close()
        old = _hold(self.path)
        os.replace(self.tmp, self.path)
        self._done = True
        _fsync_dir(os.path.dirname(os.path.abspath(self.path)))
        if old is not None:
            _release_later(old)

    def abort(self) -> None:
        """Drop the temp file (the target is untouched)."""
        self._done = True
        try:
            self._f.close()
        finally:
            if self.tmp is not None:
                try:
                    os.unlink(self.tmp)
                except FileNotFoundError:
                    pass


def _hold(path: str):
    """An open fd on the file about to be replaced (None if there is none).

    Freeing a big, already-synced file's blocks takes a while (~0.1 s per 256 MB on ext4 with
    discard); holding the old inode open moves that work out of ``save`` into a background
    close (:func:`_release_later`).
    """
    try:
        # O_NONBLOCK: never wait on a FIFO swapped in after the checks
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_size >= (16 << 20):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _release_later(fd: int) -> None:
    import threading

    threading.Thread(target=os.close, args=(fd,), daemon=True,
                     name="lamina-release-old-checkpoint").start()


def _fsync_dir(d: str) -> None:
    """Persist the rename itself (the directory entry); best effort where unsupported."""
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StreamSink:
    """Adapter so a caller's file object (BytesIO, an open file) can be a ZipWriter sink."""

    __slots__ = ("_f",)

    def __init__(self, f):
        self._f = f

    def write(self, data) -> None:
        mv = memoryview(data)
        n = mv.nbytes
        done = 0
        write = self._f.write
        while done < n:
            k = write(mv[done:])
            if k is None:  # file-likes that do not report a count write everything
                return
            if not k:
                raise OSError(errno.EIO, "short write to the file object")
            done += k
