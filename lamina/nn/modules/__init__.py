"""One file per layer family (torch.nn.modules' layout)."""

from __future__ import annotations

# --- module system: Module, containers (issue 3) ---
# --- layers: linear, activation, dropout, loss, flatten (issue 3) ---
# --- conv, pooling, normalization, embedding, padding, upsampling (issue 6) ---
# --- lazy modules (issue 5) ---
