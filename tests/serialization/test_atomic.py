"""Atomic saves: a failing or interrupted save never damages the checkpoint it replaces."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina.serialization import _atomic, _zipformat


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle me")


def _good(tmp_path):
    path = tmp_path / "ckpt.pt"
    lamina.save({"w": lamina.arange(4.0)}, path)
    return path, path.read_bytes()


def _leftovers(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir()
                  if p.name.endswith(".tmp") or ".lamina-tmp-" in p.name)


def test_save_replaces_the_file(tmp_path):
    path, _ = _good(tmp_path)
    lamina.save({"w": lamina.ones(2)}, path)
    np.testing.assert_array_equal(np.asarray(lamina.load(path)["w"]._data), [1.0, 1.0])
    assert _leftovers(tmp_path) == []


def test_object_that_fails_to_pickle_leaves_the_old_file(tmp_path):
    path, before = _good(tmp_path)
    with pytest.raises(RuntimeError, match="cannot pickle me"):
        lamina.save({"w": lamina.ones(2), "bad": _Unpicklable()}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_while_writing_leaves_the_old_file(tmp_path, monkeypatch, exc):
    path, before = _good(tmp_path)
    calls = []
    real = _zipformat.ZipWriter.write_record

    def failing(self, name, data):
        calls.append(name)
        if name.startswith("data/"):
            raise exc
        return real(self, name, data)

    monkeypatch.setattr(_zipformat.ZipWriter, "write_record", failing)
    with pytest.raises(type(exc)):
        lamina.save({"w": lamina.randn(100)}, path)
    assert "data/0" in calls
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failing_fsync_leaves_the_old_file(tmp_path, monkeypatch):
    path, before = _good(tmp_path)

    def bad_fsync(fd):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(_atomic.os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="I/O error"):
        lamina.save({"w": lamina.randn(10)}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_process_killed_mid_save_keeps_the_old_checkpoint(tmp_path):
    path, before = _good(tmp_path)
    # the child dies (os._exit: no cleanup at all) after writing, before the rename
    code = (
        "import os, lamina\n"
        "from lamina.serialization import _atomic\n"
        "_atomic.os.fsync = lambda fd: os._exit(3)\n"
        f"lamina.save({{'w': lamina.randn(1000)}}, {str(path)!r})\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lamina.__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert out.returncode == 3, out.stderr
    assert path.read_bytes() == before
    np.testing.assert_array_equal(np.asarray(lamina.load(path)["w"]._data), np.arange(4.0))


def test_missing_directory_is_a_clear_error(tmp_path):
    target = tmp_path / "models" / "my_tensor.pt"
    with pytest.raises(FileNotFoundError) as info:
        lamina.save(lamina.tensor([1, 2, 3]), target)
    assert str(tmp_path / "models") in str(info.value)
    assert "does not exist" in str(info.value)
    assert info.value.filename == str(target)
    assert not (tmp_path / "models").exists()


def test_directory_as_target_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        lamina.save(lamina.ones(1), tmp_path)


def test_symlink_target_is_replaced_and_link_kept(tmp_path):
    path, _ = _good(tmp_path)
    link = tmp_path / "latest.pt"
    link.symlink_to(path)
    lamina.save({"w": lamina.zeros(3)}, link)
    assert link.is_symlink()
    np.testing.assert_array_equal(np.asarray(lamina.load(path)["w"]._data), np.zeros(3))


def test_permissions_follow_umask_or_the_replaced_file(tmp_path):
    umask = os.umask(0o022)
    try:
        lamina.save(lamina.ones(1), tmp_path / "new.pt")
        assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o644
        os.chmod(tmp_path / "new.pt", 0o600)
        lamina.save(lamina.ones(1), tmp_path / "new.pt")
        assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o600
    finally:
        os.umask(umask)


def test_large_replace_releases_the_old_file_in_the_background(tmp_path):
    path = tmp_path / "big.pt"
    lamina.save(lamina.zeros(5 << 20), path)  # 20 MB: the old inode is held then released
    lamina.save(lamina.ones(5 << 20), path)
    assert float(lamina.load(path).sum()) == float(5 << 20)
    assert _leftovers(tmp_path) == []


def test_atomic_file_used_directly(tmp_path):
    target = tmp_path / "x.bin"
    with _atomic.AtomicFile(target) as f:
        f.write(b"abc")
        f.write(np.arange(3, dtype=np.uint8))
        f.commit()
    assert target.read_bytes() == b"abc\x00\x01\x02"
    with _atomic.AtomicFile(target) as f:
        f.write(b"never committed")
    assert target.read_bytes() == b"abc\x00\x01\x02"
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------- issue 13: special targets
def _run_child(code: str, timeout: float = 60):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lamina.__file__)))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _null_device(path) -> None:
    """A character device like /dev/null (1, 3), made under a temp dir (never the real one)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot create a device node here ({e}); needs CAP_MKNOD")


@pytest.mark.parametrize("via_link", [False, True])
def test_character_device_is_written_through_not_replaced(tmp_path, via_link):
    dev = tmp_path / "null"
    _null_device(dev)
    target = dev
    if via_link:
        target = tmp_path / "link"
        target.symlink_to(dev)
    lamina.save({"w": lamina.ones(3)}, target)
    assert stat.S_ISCHR(os.stat(dev).st_mode), "the device node was replaced by a file"
    assert os.stat(dev).st_rdev == os.makedev(1, 3)
    if via_link:
        assert target.is_symlink()
    assert _leftovers(tmp_path) == []


def test_save_to_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = ("import lamina\n"
            "try:\n"
            f"    lamina.save({{'w': lamina.ones(2)}}, {str(fifo)!r})\n"
            "except OSError as e:\n"
            "    print('REFUSED', e)\n")
    out = _run_child(code, timeout=60)  # a hang is a TimeoutExpired failure
    assert "REFUSED" in out.stdout and "FIFO" in out.stdout, out.stderr[-2000:]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


def test_save_to_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        with pytest.raises(OSError, match="socket"):
            lamina.save({"w": lamina.ones(2)}, path)
    finally:
        s.close()
    assert stat.S_ISSOCK(os.stat(path).st_mode)


def test_read_only_target_raises_permission_error(tmp_path):
    # torch opens the file for writing: EACCES for a 0444 file. lamina checks the file's own
    # permission before replacing it (root included: the kernel would let root write, but a
    # file without any write bit is kept)
    path, before = _good(tmp_path)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="read-only"):
        lamina.save({"w": lamina.zeros(2)}, path)
    assert path.read_bytes() == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert _leftovers(tmp_path) == []
    os.chmod(path, 0o644)
    lamina.save({"w": lamina.zeros(2)}, path)  # writable again: replaced


def test_read_only_target_as_non_root_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="lamina-ro-", dir="/tmp")  # reachable by 'nobody'
    try:
        os.chmod(d, 0o777)  # the directory allows the rename: only the file's mode protects it
        path = os.path.join(d, "ckpt.pt")
        lamina.save({"w": lamina.arange(4.0)}, path)
        os.chmod(path, 0o644)  # writable by its owner (root) only
        with open(path, "rb") as f:
            before = f.read()
        code = ("import os, secrets, stat, lamina, lamina.serialization\n"
                "os.setgid(65534); os.setuid(65534)\n"
                "try:\n"
                f"    lamina.save({{'w': lamina.ones(2)}}, {path!r})\n"
                "except PermissionError as e:\n"
                "    print('REFUSED', e)\n")
        out = _run_child(code)
        assert "REFUSED" in out.stdout and "read-only" in out.stdout, \
            out.stdout + out.stderr[-2000:]
        with open(path, "rb") as f:
            assert f.read() == before
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_temp_files_are_recognisable(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(_atomic.os, "replace", spy)
    lamina.save({"w": lamina.ones(2)}, tmp_path / "m.pt")
    assert len(seen) == 1
    assert seen[0].startswith(f".m.pt.lamina-tmp-{os.getpid()}-")


def test_stale_temp_of_a_killed_writer_is_removed_by_the_next_save(tmp_path):
    path, _ = _good(tmp_path)
    # a writer killed (SIGKILL) in the middle of writing: its temp stays behind
    code = ("import os, signal, lamina\n"
            "from lamina.serialization import _atomic\n"
            "real = _atomic.AtomicFile.write\n"
            "def write(self, data):\n"
            "    real(self, data)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "_atomic.AtomicFile.write = write\n"
            f"lamina.save({{'w': lamina.randn(1000)}}, {str(path)!r})\n")
    out = _run_child(code)
    assert out.returncode == -9, out.stderr
    stale = _leftovers(tmp_path)
    assert len(stale) == 1 and ".lamina-tmp-" in stale[0]
    # a temp of a live writer (this process's parent, say) and other files are kept
    live = tmp_path / f".ckpt.pt.lamina-tmp-{os.getppid()}-abcd"
    live.write_bytes(b"x")
    other = tmp_path / ".other.pt.lamina-tmp-999999999-abcd"
    other.write_bytes(b"x")
    lamina.save({"w": lamina.ones(1)}, path)
    assert live.exists() and other.exists()
    assert _leftovers(tmp_path) == sorted([live.name, other.name])
    np.testing.assert_array_equal(np.asarray(lamina.load(path)["w"]._data), [1.0])
