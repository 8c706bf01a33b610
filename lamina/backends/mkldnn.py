"""lamina.backends.mkldnn: lamina calls no oneDNN (mkldnn) of its own (its CPU math is NumPy's)."""

from __future__ import annotations

__all__ = ["enabled", "is_available"]


def is_available() -> bool:
    """False: lamina has no oneDNN (mkldnn) code path."""
    return False


enabled = True  # torch's flag, stored; it changes nothing in lamina
