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
    cp = _cupy()
    if cp is None:
        return 0
    try:
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def current_device() -> int:
    return _current


def set_device(device) -> None:
    global _current
    from ._device import device as _dev

    d = _dev(device) if not isinstance(device, int) else _dev("cuda", device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    _current = d.index or 0


def synchronize(device=None) -> None:
    if not is_available():
        raise RuntimeError("lamina.cuda.synchronize(): no CUDA GPU is available (CuPy missing or "
                           "no device)")
    from ._backends.cupy_backend import get

    get(_current if device is None else (device if isinstance(device, int) else
                                          (device.index or 0))).synchronize()


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator (does nothing without a GPU, like torch)."""
    from ._rng import cuda_manual_seed

    cuda_manual_seed(seed, all_devices=False)


def manual_seed_all(seed: int) -> None:
    from ._rng import cuda_manual_seed

    cuda_manual_seed(seed, all_devices=True)


def get_device_name(device=None) -> str:
    cp = _cupy()
    if cp is None or not is_available():
        raise RuntimeError("no CUDA GPU is available")
    idx = _current if device is None else (device if isinstance(device, int) else device.index or 0)
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()


def empty_cache() -> None:
    cp = _cupy()
    if cp is not None and is_available():
        cp.get_default_memory_pool().free_all_blocks()
