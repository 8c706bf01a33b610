"""lamina.amp: torch.amp's GradScaler (real loss scaling) and autocast (a working context that
casts nothing: lamina runs every op in its inputs' dtype; see autocast_mode)."""

from __future__ import annotations

from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,
                            is_autocast_available, is_autocast_enabled)
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
