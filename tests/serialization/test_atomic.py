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
    return sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))


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
