"""Devices: ``device('cpu' | 'cuda' | 'cuda:N' | 'meta')`` and the array namespace of each."""

from __future__ import annotations


class device:
    """Where a tensor's data lives. ``str(device)`` is ``'cpu'`` or ``'cuda:0'`` as in torch."""

    __slots__ = ("type", "index", "_str", "_backend")

    def __new__(cls, type, index=None):  # noqa: A002 - torch's argument name
        if type.__class__ is device:
            if index is not None:
                raise ValueError("device(): index given twice")
            return type
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or int, got {type!r}")
        key = (type, index)
        d = _CACHE.get(key)
        if d is not None:
            return d
        t, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if t not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        if t == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be 0 or None, got {index}")
        d = object.__new__(cls)
        d.type = t
        d.index = None if t == "cpu" else index
        d._str = t if d.index is None else f"{t}:{d.index}"
        d._backend = None
        _CACHE[key] = d
        return d

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self._str

    def __eq__(self, other) -> bool:
        if other.__class__ is not device:
            if isinstance(other, str):
                try:
                    other = device(other)
                except (RuntimeError, TypeError):
                    return False
            else:
                return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self._str,))

    def __enter__(self):  # `with torch.device('cuda'):` is not supported as a default device
        raise RuntimeError("lamina does not support device objects as context managers")

    def __exit__(self, *a):
        return False


_CACHE: dict = {}
CPU = device("cpu")


def to_device(d) -> device:
    """Resolve a device-like (str, int, device); 'cuda' without index means the current one."""
    if d.__class__ is device:
        dv = d
    elif d is None:
        return CPU
    else:
        dv = device(d)
    if dv.type == "cuda" and dv.index is None:
        from . import cuda

        dv = device("cuda", cuda.current_device())
    return dv


def backend(d: device):
    """The Backend (array namespace ``xp`` and helpers) of a device, cached on it."""
    b = d._backend
    if b is None:
        from ._backends import get_backend

        b = d._backend = get_backend(d)
    return b
