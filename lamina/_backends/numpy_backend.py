"""The cpu backend: NumPy."""

from __future__ import annotations

import numpy


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
