"""Comparisons, logical and bitwise ops, ``isclose`` / ``isnan`` and friends: results that carry
no gradient (bool or integer tensors), so no ``Op`` classes."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor, _make
from ._registry import export, register
from .promotion import _prep


def _compare(ufunc, *names, dunder):
    """The comparison ``names[0]`` (NumPy's ``ufunc``), declared under ``names``."""

    def cmp(input, other):
        a, b = _prep(input, other)
        if isinstance(a, Tensor):
            dev = a._device
            xa = a._data
        else:
            dev = b._device
            xa = a
        xb = b._data if isinstance(b, Tensor) else b
        if isinstance(b, Tensor) and b._device is not dev and b._device != dev:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {b._device}!")
        return _make(getattr(backend(dev).xp, ufunc)(xa, xb), dev)

    cmp.__name__ = names[0]
    return register(cmp, *names, inplace=True, dunders=(dunder,))


eq = _compare("equal", "eq", dunder="__eq__")
ne = _compare("not_equal", "ne", "not_equal", dunder="__ne__")
lt = _compare("less", "lt", "less", dunder="__lt__")
le = _compare("less_equal", "le", "less_equal", dunder="__le__")
gt = _compare("greater", "gt", "greater", dunder="__gt__")
ge = _compare("greater_equal", "ge", "greater_equal", dunder="__ge__")


def _logical(name):
    def f(input, other=None):
        xp = backend(input._device).xp
        if other is None:
            return _make(getattr(xp, name)(input._data), input._device)
        xb = other._data if isinstance(other, Tensor) else other
        return _make(getattr(xp, name)(input._data, xb), input._device)

    f.__name__ = name
    return register(f, inplace=True)


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")
logical_not = _logical("logical_not")


def _bitwise(name):
    def f(input, other=None):
        if not isinstance(input, Tensor):
            input, other = other, input
        xp = backend(input._device).xp
        if other is None:
            return _make(getattr(xp, name)(input._data), input._device)
        a, b = _prep(input, other)
        xb = b._data if isinstance(b, Tensor) else b
        if a._data.dtype.kind == "f":
            raise RuntimeError(f'"{name}" not implemented for floating-point tensors')
        return _make(getattr(xp, name)(a._data, xb), a._device)

    f.__name__ = name
    return f


bitwise_and = register(_bitwise("bitwise_and"), inplace=True, dunders=("__and__", "__rand__"),
                       idunders=("__iand__",))
bitwise_or = register(_bitwise("bitwise_or"), inplace=True, dunders=("__or__", "__ror__"),
                      idunders=("__ior__",))
bitwise_xor = register(_bitwise("bitwise_xor"), inplace=True, dunders=("__xor__", "__rxor__"),
                       idunders=("__ixor__",))
bitwise_not = register(_bitwise("invert"), "bitwise_not", inplace=True)


@export()
def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    if input.shape != other.shape:
        return False
    return bool(backend(input._device).xp.all(input._data == other._data))


@export()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    xp = backend(input._device).xp
    xb = other._data if isinstance(other, Tensor) else other
    return _make(xp.isclose(input._data, xb, rtol=rtol, atol=atol, equal_nan=equal_nan),
                 input._device)


@export()
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@export()
def isnan(input):
    return _make(backend(input._device).xp.isnan(input._data), input._device)


@export()
def isinf(input):
    return _make(backend(input._device).xp.isinf(input._data), input._device)


@export()
def isfinite(input):
    return _make(backend(input._device).xp.isfinite(input._data), input._device)


def _invert(self):
    if self._data.dtype.kind == "b":
        return logical_not(self)
    return bitwise_not(self)


register(_invert, "__invert__", function=False)
