"""lamina.backends.openmp: lamina calls no OpenMP of its own (its CPU math is NumPy's)."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """False: lamina has no OpenMP code path."""
    return False
