"""The cpu backend's process-level malloc tuning (lamina/_backends/numpy_backend.py)."""

from __future__ import annotations

import subprocess
import sys

from lamina._backends import numpy_backend as nb


def test_malloc_tuning_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("LAMINA_MALLOC_TUNE", "0")
    assert nb._tune_malloc() is False


def test_malloc_tuning_applies_on_linux_glibc():
    # a fresh interpreter: the setting is made once, when the backend is imported
    code = "import lamina._backends.numpy_backend as nb; print(nb.MALLOC_TUNED)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    import platform

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out == str(glibc)
    env_off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={"LAMINA_MALLOC_TUNE": "0", "PATH": ""}).stdout
    assert env_off.strip() == "False"
