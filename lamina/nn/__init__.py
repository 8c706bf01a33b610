"""lamina.nn: modules, parameters, initializers and functional ops (torch.nn's layout)."""

from __future__ import annotations

# --- parameter & module system (issue 3: module system) ---
# --- layers: linear, activation, dropout, loss, flatten (issue 3: layers) ---
# --- conv, pooling, normalization, embedding, padding, upsampling (issue 6) ---
# --- lazy modules (issue 5) ---
from . import functional, init  # noqa: E402,F401
from . import modules  # noqa: E402,F401
from . import utils  # noqa: E402,F401
