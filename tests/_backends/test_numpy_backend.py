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


def test_parallel_unary_equals_the_serial_ufunc():
    import numpy as np

    rng = np.random.default_rng(0)
    for dtype in (np.float16, np.float32, np.float64):
        x = (rng.standard_normal(nb.PARALLEL_MIN * 3 + 7) * 3).astype(dtype)
        for f in (np.exp, np.log, np.tanh):
            with np.errstate(invalid="ignore", over="ignore"):
                got, want = nb.parallel_unary(f, x), f(x)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    # 2-d, non-contiguous and small inputs take the direct path and still agree
    x2 = rng.random((600, 700), dtype=np.float32)
    np.testing.assert_array_equal(nb.parallel_unary(np.exp, x2), np.exp(x2))
    np.testing.assert_array_equal(nb.parallel_unary(np.exp, x2.T), np.exp(x2.T))
    np.testing.assert_array_equal(nb.parallel_unary(np.exp, x2[:3]), np.exp(x2[:3]))


def test_parallel_unary_keeps_the_callers_errstate():
    import warnings

    import numpy as np

    x = np.full(nb.PARALLEL_MIN * 4, -1e4, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            out = nb.parallel_unary(np.exp, -x)  # overflows in every chunk, silently
    assert np.isinf(out).all()
