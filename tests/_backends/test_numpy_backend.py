"""The cpu backend: opt-in malloc tuning and intra-op threads (lamina/_backends/numpy_backend.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lamina
from lamina._backends import numpy_backend as nb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child(code, **env):
    e = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    e.pop("OMP_NUM_THREADS", None)
    e.update(env)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, env=e, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_and_use_change_no_process_wide_state():
    # mallopt calls are recorded by wrapping ctypes.CDLL before lamina is imported
    out = _child("""
        import ctypes, json, signal, sys, threading, warnings
        calls = []
        real = ctypes.CDLL
        class Spy:
            def __init__(self, *a, **k): self._lib = real(*a, **k)
            def __getattr__(self, name):
                calls.append(name)
                return getattr(self._lib, name)
        ctypes.CDLL = Spy
        import numpy  # NumPy installs warning filters of its own at import
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        filters = list(warnings.filters)
        import lamina
        x = lamina.randn(300_000, requires_grad=True)
        x.exp().sum().backward()          # large elementwise: the intra-op pool
        lamina.nn.Linear(3, 4)(lamina.randn(2, 3)).sum().backward()
        print(json.dumps({
            "mallopt": "mallopt" in calls,
            "signals": all(signal.getsignal(s) == h for s, h in handlers.items()),
            "filters": list(warnings.filters) == filters,
            "excepthook": sys.excepthook is sys.__excepthook__,
        }))
    """)
    assert out == {"mallopt": False, "signals": True, "filters": True, "excepthook": True}


def test_import_starts_no_thread():
    out = _child("""
        import json, threading
        before = threading.active_count()
        import lamina
        lamina.manual_seed(0)
        lamina.randn(2_000_000)           # large draws: no helper thread either
        print(json.dumps([before, threading.active_count()]))
    """)
    assert out[0] == out[1] == 1


def test_tune_malloc_is_an_explicit_call():
    import platform

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    out = _child("""
        import json, lamina
        print(json.dumps(lamina.cpu.tune_malloc()))
    """)
    assert out is glibc


def test_threads_follow_omp_num_threads_and_set_num_threads():
    assert _child("import json, lamina; print(json.dumps(lamina.get_num_threads()))",
                  OMP_NUM_THREADS="3") == 3
    out = _child("""
        import json, threading, lamina
        lamina.set_num_threads(1)
        x = lamina.rand(600_000)
        x.exp()                            # one thread: no pool is started
        one = threading.active_count()
        lamina.set_num_threads(3)
        x.exp()
        from lamina._backends import numpy_backend as nb
        # the pool may run both parts on one worker it already started: count its size
        three = nb._pool._max_workers
        live = sum(t.name.startswith("lamina-intraop") for t in threading.enumerate())
        print(json.dumps([lamina.get_num_threads(), one, three, 1 <= live <= 2]))
    """)
    assert out == [3, 1, 2, True]


def test_set_num_threads_rejects_bad_values():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(RuntimeError, match="positive integer"):
            lamina.set_num_threads(bad)


@pytest.mark.parametrize("nthreads", [1, 2, 3, 7])
def test_parallel_unary_equals_the_serial_ufunc(monkeypatch, nthreads):
    monkeypatch.setattr(nb, "_nthreads", nthreads)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = (rng.random(nb.PARALLEL_MIN * 2 + 13) * 20 - 10).astype(dtype)
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


def test_parallel_unary_keeps_the_callers_errstate(monkeypatch):
    monkeypatch.setattr(nb, "_nthreads", 2)
    import warnings

    import numpy as np

    x = np.full(nb.PARALLEL_MIN * 4, -1e4, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            out = nb.parallel_unary(np.exp, -x)  # overflows in every chunk, silently
    assert np.isinf(out).all()
