"""lamina.nn.utils: clip_grad_norm_, parameters_to_vector, materialize, ..."""

from __future__ import annotations

# --- clip_grad (issue 3) ---
# --- materialize (issue 5) ---
