"""lamina.linalg: torch.linalg's names for ops lamina defines elsewhere.

Only what is a re-export or a one-line call of an existing op; lamina has no matrix
decompositions, solvers or matrix norms (``linalg.norm`` with a matrix ``ord``).
"""

from __future__ import annotations

from .ops import index as _ix
from .ops import reduce as _rd
from .ops.linalg import matmul

__all__ = ["diagonal", "matmul", "vector_norm"]


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: torch.diagonal with the last two dims by default."""
    return _ix.diagonal(A, offset, dim1, dim2)


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm: the p-norm of input over ``dim`` (all elements by default)."""
    return _rd.norm(input, ord, dim, keepdim, dtype=dtype)
