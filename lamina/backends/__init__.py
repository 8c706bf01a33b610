"""lamina.backends: torch.backends' switches, with a CPU-only torch's defaults.

Programs flip these on their CPU path even when they never use the hardware
(``torch.backends.cudnn.benchmark = True``, ``torch.backends.cuda.matmul.allow_tf32 = True``).
lamina stores each flag as a plain attribute and reports honestly what it uses: no cuDNN, no
MPS, no oneDNN (mkldnn), no OpenMP, no MKL of its own (its CPU math is NumPy's, its GPU math
CuPy's), so those ``is_available()`` answer False. A flag that grants a permission
(``allow_tf32``, ``benchmark``) is kept and read back but changes no result: lamina always
computes in the full precision of the dtype.
"""

from __future__ import annotations

from . import cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
