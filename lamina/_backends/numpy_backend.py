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
