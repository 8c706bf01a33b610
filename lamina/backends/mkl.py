"""lamina.backends.mkl: lamina calls no Intel MKL of its own (its CPU math is NumPy's)."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """False: lamina has no Intel MKL code path."""
    return False
