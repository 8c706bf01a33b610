"""lamina.special: torch.special's names for ops lamina defines elsewhere (re-exports only)."""

from __future__ import annotations

from .ops.activation import erf, log_softmax, softmax
from .ops.unary import expm1, log1p, round
from .ops.unary import sigmoid as expit
from .ops.reduce import logsumexp

__all__ = ["erf", "expit", "expm1", "log1p", "log_softmax", "logsumexp", "round", "softmax"]
