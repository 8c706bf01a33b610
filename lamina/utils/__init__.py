"""lamina.utils: data loading and the model summary."""

from __future__ import annotations

from . import data  # noqa: F401
# eager: a lazy `from . import summary` inside __getattr__ recurses (the submodule and the
# function share the name); binding the function here makes lamina.utils.summary the function
from .summary import ModelSummary, summary  # noqa: E402,F401


def __getattr__(name):
    if name in ("summary", "ModelSummary"):
        from . import summary as _s

        return getattr(_s, name) if name != "summary" else _s.summary
    raise AttributeError(f"module 'lamina.utils' has no attribute '{name}'")
