"""The cpu backend: NumPy."""

from __future__ import annotations

import os
import sys

import numpy

# glibc's malloc hands every temporary above its (dynamic) mmap threshold a fresh mapping and
# returns freed heap tops to the OS at once, so each conv / pool / norm temporary of a few MB
# costs a round of page faults; this is most of the gap to torch on small CNNs (LeNet step
# ~20 ms -> ~12 ms here). lamina keeps allocations below 32 MiB on the heap and lets up to
# 256 MiB of freed heap stay mapped for reuse (a bounded cost, like torch's caching
# allocators). Set LAMINA_MALLOC_TUNE=0 to leave malloc alone.
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 256 << 20


def _tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether both settings were taken."""
    if os.environ.get("LAMINA_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # absent on non-glibc libcs (musl): no tuning
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, _MMAP_THRESHOLD)) and bool(
        mallopt(m_trim_threshold, _TRIM_THRESHOLD))


MALLOC_TUNED = _tune_malloc()


# ------------------------------------------------------------ threaded transcendental ufuncs
# NumPy runs every ufunc on one core; torch splits large elementwise kernels over its threads.
# exp / log / tanh cost ~1.5 ns per float32 element, so from a few hundred thousand elements
# on, splitting the array over the cores pays for the hand-off (ufuncs release the GIL).
PARALLEL_MIN = 1 << 18
_NTHREADS = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else (os.cpu_count() or 1), 8))
_pool = None


def _apply_with_errstate(err, ufunc, x, out):
    with numpy.errstate(**err):
        ufunc(x, out=out)


def parallel_unary(ufunc, x):
    """``ufunc(x)`` for a float array, split over the cpu cores when ``x`` is large.

    The result is the same array ``ufunc(x)`` gives (same dtype, same values: each element is
    computed by the same kernel); small, non-contiguous or single-core cases call it directly.
    """
    n = x.size
    if n < PARALLEL_MIN or _NTHREADS < 2 or not x.flags.c_contiguous or x.dtype.kind != "f":
        return ufunc(x)
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=_NTHREADS - 1,
                                   thread_name_prefix="lamina-ufunc")
    out = numpy.empty_like(x)
    xf, of = x.reshape(-1), out.reshape(-1)
    step = -(-n // _NTHREADS)
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
