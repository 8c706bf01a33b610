"""lamina.utils: data loading and the model summary."""

from __future__ import annotations

from . import data  # noqa: F401


def __getattr__(name):
    if name in ("summary", "ModelSummary"):
        from . import summary as _s

        return getattr(_s, name) if name != "summary" else _s.summary
    raise AttributeError(f"module 'lamina.utils' has no attribute '{name}'")
