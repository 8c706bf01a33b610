"""lamina.accelerator: torch.accelerator, the device-neutral GPU queries, backed by lamina.cuda.

lamina's one accelerator is CUDA through CuPy. Installing CuPy plays the part of a CUDA build
of torch: ``current_accelerator()`` is ``device('cuda')`` then, and None without CuPy (as in a
CPU-only torch), whether or not a GPU is visible; ``is_available()`` and ``device_count()``
ask the driver. Without an accelerator every call behaves as torch's CPU-only build does.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings

from . import cuda as _cuda
from ._device import device as _device

__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "device_count",
    "device_index", "empty_cache", "is_available", "memory_allocated", "memory_reserved",
    "set_device_idx", "set_device_index", "synchronize",
]

_NONE = "Cannot access accelerator device when none is available."


def _built() -> bool:
    """CuPy is importable (found without importing it)."""
    if sys.modules.get("cupy") is not None:
        return True
    try:
        return importlib.util.find_spec("cupy") is not None
    except (ImportError, ValueError):
        return False


def current_accelerator(check_available: bool = False):
    """The accelerator's device (index None): ``device('cuda')`` when CuPy is installed, else
    None. With ``check_available=True`` also None when no GPU is visible."""
    if not _built():
        return None
    if check_available and not _cuda.is_available():
        return None
    return _device("cuda")


def is_available() -> bool:
    """True when there is an accelerator and at least one of its devices is visible."""
    return current_accelerator() is not None and _cuda.is_available()


def device_count() -> int:
    """How many accelerator devices are visible (0 without one)."""
    if current_accelerator() is None:
        return 0
    return _cuda.device_count()


def _require() -> None:
    if not is_available():
        raise RuntimeError(_NONE)


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require()
    return _cuda.current_device()


def _get_device_index(device, optional: bool) -> int:
    # torch.accelerator._utils._get_device_index, word for word in behaviour
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, str):
        device = _device(device)
    index = None
    if isinstance(device, _device):
        acc = current_accelerator()
        if acc is None:
            raise RuntimeError("Accelerator expected")
        if acc.type != device.type:
            raise ValueError(f"{device.type} doesn't match the current accelerator {acc}.")
        index = device.index
    if index is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, "
                             f"but got:{device}")
        return current_device_index()
    return index


def set_device_index(device, /) -> None:
    """Make ``device`` (an index, ``'cuda:N'`` or a device) the current one; a negative index
    does nothing."""
    idx = _get_device_index(device, optional=False)
    if idx < 0:
        return
    _require()
    _cuda.set_device(idx)


def synchronize(device=None, /) -> None:
    """Wait for all work queued on ``device`` (default: the current device)."""
    idx = _get_device_index(device, optional=True)
    _require()
    _cuda.synchronize(idx)


def current_device_idx() -> int:
    """Deprecated spelling of :func:`current_device_index`."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device, /) -> None:
    """Deprecated spelling of :func:`set_device_index`."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


class device_index:
    """``with lamina.accelerator.device_index(i):`` makes device ``i`` current inside the
    block; ``None`` does nothing."""

    def __init__(self, device, /) -> None:
        self.idx = device
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None:
            _require()
            self.prev_idx = _cuda.current_device()
            if self.idx >= 0:
                _cuda.set_device(self.idx)

    def __exit__(self, *exc_info) -> None:
        if self.idx is not None and self.prev_idx >= 0:
            _cuda.set_device(self.prev_idx)


def empty_cache() -> None:
    """Release the memory the accelerator's allocator caches."""
    _require()
    _cuda.empty_cache()


def memory_allocated(device=None, /) -> int:
    """Bytes held by tensors on ``device`` (default: the current one)."""
    idx = _get_device_index(device, optional=True)
    _require()
    return _cuda.memory_allocated(idx)


def memory_reserved(device=None, /) -> int:
    """Bytes the allocator holds on ``device``, used and cached."""
    idx = _get_device_index(device, optional=True)
    _require()
    return _cuda.memory_reserved(idx)
