"""The cuda backend: CuPy, imported only when a cuda device is used."""

from __future__ import annotations

_BACKENDS: dict = {}


def _import_cupy():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "lamina's cuda device needs CuPy, which is not installed. Install it with "
            "`pip install 'lamina[cuda]'` (cupy-cuda12x) on a machine with an NVIDIA GPU, "
            "or use device='cpu'.") from None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # cupy raises CUDARuntimeError without a driver
        raise RuntimeError(f"CuPy is installed but found no usable CUDA GPU ({e}); "
                           f"use device='cpu'") from None
    if n == 0:
        raise RuntimeError("CuPy is installed but no CUDA GPU is visible; use device='cpu'")
    return cupy


class CupyBackend:
    """Namespace and helpers for arrays on one GPU."""

    __slots__ = ("xp", "index", "name", "array_type", "_device")

    def __init__(self, cupy, index: int):
        if index >= cupy.cuda.runtime.getDeviceCount():
            raise RuntimeError(
                f"CUDA error: invalid device ordinal: cuda:{index} requested, "
                f"{cupy.cuda.runtime.getDeviceCount()} GPU(s) visible")
        self.xp = cupy
        self.index = index
        self.name = f"cuda:{index}"
        self.array_type = cupy.ndarray
        self._device = cupy.cuda.Device(index)

    def asarray(self, a, dtype=None):
        with self._device:
            return self.xp.asarray(a, dtype=dtype)

    def to_numpy(self, a):
        return self.xp.asnumpy(a)

    def from_numpy(self, a):
        with self._device:
            return self.xp.asarray(a)

    def scatter_add(self, target, index, values):
        """target[index] += values with repeated indices summed (numpy.add.at semantics)."""
        at = getattr(self.xp.add, "at", None)  # ufunc.at exists from CuPy 13
        if at is not None:
            at(target, index, values)
            return
        import cupyx

        cupyx.scatter_add(target, index, values)

    def synchronize(self):
        self.xp.cuda.Device(self.index).synchronize()


def get(index: int) -> CupyBackend:
    b = _BACKENDS.get(index)
    if b is None:
        b = _BACKENDS[index] = CupyBackend(_import_cupy(), index)
    return b
