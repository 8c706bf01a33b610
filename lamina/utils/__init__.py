"""lamina.utils: data loading and the model summary."""

from __future__ import annotations

from . import data  # noqa: F401
# eager: a lazy `from . import summary` inside __getattr__ recurses (the submodule and the
# function share the name); binding the function here makes lamina.utils.summary the function
from .summary import ModelSummary, summary  # noqa: E402,F401

