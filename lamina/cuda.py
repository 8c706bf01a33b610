"""lamina.cuda: GPU queries. CuPy is imported only when one of these is called."""

from __future__ import annotations

_current = 0


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or without a driver)."""
    cp = _cupy()
    if cp is None:
        return 0
    try:
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def current_device() -> int:
    """The index of the current GPU (what ``'cuda'`` without an index means)."""
    return _current


def _index(device, where: str) -> int:
    """The GPU index of None (current), an int, 'cuda:N' or a cuda lamina.device."""
    if device is None:
        return _current
    if isinstance(device, int) and not isinstance(device, bool):
        idx = device
    else:
        from ._device import device as _dev

        d = _dev(device)
        if d.type != "cuda":
            raise ValueError(f"{where}: Expected a cuda device, but got: {d}")
        idx = _current if d.index is None else d.index
    if idx < 0:
        raise ValueError(f"{where}: device index must be >= 0, got {idx}")
    return idx


def _require(where: str, idx: int | None = None) -> None:
    n = device_count()
    if n == 0:
        if _cupy() is None:
            raise RuntimeError(f"{where}: no CUDA GPU is available: lamina's cuda device needs "
                               f"CuPy, which is not installed; expected an NVIDIA GPU and "
                               f"pip install 'lamina[cuda]' (cupy-cuda12x)")
        raise RuntimeError(f"{where}: no CUDA GPU is available: CuPy is installed but sees no "
                           f"GPU; expected an NVIDIA driver and a visible device (check "
                           f"nvidia-smi and CUDA_VISIBLE_DEVICES)")
    if idx is not None and idx >= n:
        raise RuntimeError(f"{where}: CUDA error: invalid device ordinal; expected a device "
                           f"index below {n}, got {idx}")


def set_device(device) -> None:
    """Make ``device`` the current GPU: ``'cuda'`` / ``.cuda()`` without an index use it."""
    global _current
    idx = _index(device, "lamina.cuda.set_device")
    _require("lamina.cuda.set_device", idx)
    _current = idx


def synchronize(device=None) -> None:
    """Wait for all work queued on ``device`` (default: the current GPU)."""
    idx = _index(device, "lamina.cuda.synchronize")
    _require("lamina.cuda.synchronize", idx)
    from ._backends.cupy_backend import get

    get(idx).synchronize()


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator (does nothing without a GPU, like torch)."""
    from .random import _cuda_manual_seed

    _cuda_manual_seed(int(seed), all_devices=False)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator (does nothing without a GPU, like torch)."""
    from .random import _cuda_manual_seed

    _cuda_manual_seed(int(seed), all_devices=True)


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    idx = _index(device, "lamina.cuda.get_device_name")
    _require("lamina.cuda.get_device_name", idx)
    name = _cupy().cuda.runtime.getDeviceProperties(idx)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def empty_cache() -> None:
    cp = _cupy()
    if cp is not None and is_available():
        cp.get_default_memory_pool().free_all_blocks()


def is_initialized() -> bool:
    """True once a cuda device has been used in this process."""
    from ._backends import cupy_backend

    return bool(cupy_backend._BACKENDS)


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by tensors (CuPy's memory pool); 0 without a GPU."""
    cp = _cupy()
    if cp is None or not is_available():
        return 0
    with cp.cuda.Device(_index(device, "lamina.cuda.memory_allocated")):
        return int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory CuPy's pool holds (used and cached); 0 without a GPU."""
    cp = _cupy()
    if cp is None or not is_available():
        return 0
    with cp.cuda.Device(_index(device, "lamina.cuda.memory_reserved")):
        return int(cp.get_default_memory_pool().total_bytes())


class device:
    """Context manager: ``with lamina.cuda.device(1):`` makes GPU 1 current inside the block.

    ``None`` or a negative index does nothing (as in torch).
    """

    def __init__(self, device):
        if device is None or (isinstance(device, int) and device < 0):
            self.idx = -1
        else:
            self.idx = _index(device, "lamina.cuda.device")
        self.prev_idx = -1

    def __enter__(self):
        global _current
        if self.idx >= 0:
            _require("lamina.cuda.device", self.idx)
            self.prev_idx = _current
            _current = self.idx
        return self

    def __exit__(self, *exc):
        global _current
        if self.idx >= 0:
            _current = self.prev_idx
        return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: lamina has no bfloat16 tensors on any device (see lamina.bfloat16)."""
    return False


def __getattr__(name):
    if name == "amp":  # torch.cuda.amp: the deprecated spellings of lamina.amp's classes
        from .amp import _cuda_amp

        return _cuda_amp
    raise AttributeError(f"module 'lamina.cuda' has no attribute '{name}'")
