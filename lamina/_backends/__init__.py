"""Array backends: one per array library. A Backend gives ops their namespace ``xp``."""

from __future__ import annotations


def get_backend(dev):
    """The Backend object for a device (NumPy for cpu, CuPy for cuda)."""
    if dev.type == "cpu":
        from .numpy_backend import BACKEND

        return BACKEND
    if dev.type == "cuda":
        from .cupy_backend import get

        return get(dev.index or 0)
    raise RuntimeError(f"no array backend for device '{dev}' (the meta device holds no data)")
