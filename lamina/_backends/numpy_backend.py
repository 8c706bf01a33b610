"""The cpu backend: NumPy."""

from __future__ import annotations

import os
import sys

import numpy

from . import _workspace

# glibc's malloc hands every temporary above its (dynamic) mmap threshold a fresh mapping and
# returns freed heap tops to the OS at once, so each conv / pool / norm temporary of a few MB
# costs a round of page faults (LeNet step ~20 ms -> ~12 ms here with the tuning). Changing
# the allocator is a process-wide decision, so lamina never does it on its own: a program opts
# in with lamina.cpu.tune_malloc().
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 256 << 20


def tune_malloc(mmap_threshold: int = _MMAP_THRESHOLD,
                trim_threshold: int = _TRIM_THRESHOLD) -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether both settings were taken
    (False on other C libraries and platforms)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # absent on non-glibc libcs (musl): no tuning
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, int(mmap_threshold))) and bool(
        mallopt(m_trim_threshold, int(trim_threshold)))


# ------------------------------------------------------------ intra-op threads
# NumPy runs every ufunc on one core; torch splits large elementwise kernels over its
# intra-op threads. lamina does the same for exp / log / tanh / sigmoid (~1.5 ns per float32
# element: from a few hundred thousand elements on, splitting pays for the hand-off; ufuncs
# release the GIL), with torch's thread count: OMP_NUM_THREADS if set, else the cpus this
# process may run on; lamina.set_num_threads changes it. The values never depend on the
# count: each element is computed by the same kernel.
PARALLEL_MIN = 1 << 18


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


_nthreads = _default_threads()
_pool = None
_pool_size = 0


def get_num_threads() -> int:
    return _nthreads


def set_num_threads(n: int) -> None:
    global _nthreads, _pool, _pool_size
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _nthreads = n
    if _pool is not None and _pool_size != n - 1:
        old, _pool, _pool_size = _pool, None, 0
        old.shutdown(wait=True)


def _apply_with_errstate(err, ufunc, x, out):
    with numpy.errstate(**err):
        ufunc(x, out=out)


def parallel_unary(ufunc, x):
    """``ufunc(x)`` for a float array, split over ``get_num_threads()`` threads when large.

    The result has the values and dtype ``ufunc(x)`` gives (each element is computed by the
    same kernel), in a recycled array when large (``_workspace.result``); small or
    single-thread cases run in this thread, non-contiguous or non-float ones call it directly.
    """
    if not x.flags.c_contiguous or x.dtype.kind != "f":
        return ufunc(x)
    out = _workspace.result(numpy, x.shape, x.dtype)  # a recycled array when large
    n = x.size
    nt = _nthreads
    if n < PARALLEL_MIN or nt < 2:
        return ufunc(x, out=out)
    global _pool, _pool_size
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=nt - 1, thread_name_prefix="lamina-intraop")
        _pool_size = nt - 1
    xf, of = x.reshape(-1), out.reshape(-1)
    step = -(-n // nt)
    # the caller's errstate (e.g. over="ignore") is thread-local: hand it to the workers
    err = numpy.geterr()
    futures = [_pool.submit(_apply_with_errstate, err, ufunc, xf[i:i + step], of[i:i + step])
               for i in range(step, n, step)]
    ufunc(xf[:step], out=of[:step])  # this thread takes the first part
    for f in futures:
        f.result()
    return out


class NumpyBackend:
    """Namespace and helpers for cpu arrays."""

    __slots__ = ()
    xp = numpy
    name = "cpu"
    array_type = numpy.ndarray

    @staticmethod
    def asarray(a, dtype=None):
        return numpy.asarray(a, dtype=dtype)

    @staticmethod
    def to_numpy(a):
        return a

    @staticmethod
    def from_numpy(a):
        return a

    @staticmethod
    def scatter_add(target, index, values):
        """target[index] += values with repeated indices summed (index is a tuple or array)."""
        numpy.add.at(target, index, values)

    @staticmethod
    def synchronize():
        pass


BACKEND = NumpyBackend()
