"""lamina.nn.functional: thin wrappers that check arguments and call lamina/ops."""

from __future__ import annotations

from ..ops.elementwise import relu as _relu_op  # noqa: F401

# --- activations, linear, dropout, losses (issue 3: layers) ---
# --- conv, pooling, normalization, embedding, padding, interpolate, unfold/fold (issue 6) ---
