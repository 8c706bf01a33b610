"""``torch.cpu``: the cpu device's queries, plus lamina's opt-in allocator tuning."""

from __future__ import annotations

from ._backends.numpy_backend import tune_malloc

__all__ = ["is_available", "device_count", "current_device", "synchronize", "tune_malloc"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: cpu work is done when the call returns."""
