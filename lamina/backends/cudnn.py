"""lamina.backends.cudnn: torch.backends.cudnn's flags, stored; lamina uses no cuDNN.

The flags keep torch's defaults (``enabled=True``, ``benchmark=False``,
``deterministic=False``, ``allow_tf32=True``) and can be set and read back; lamina's results
do not depend on them (its GPU convolutions are CuPy matmuls, deterministic, in full float32).
One exception: with ``benchmark=True`` (as in torch, an opt-in), lamina times its cpu
convolution algorithms on the first call of each problem and keeps the fastest, so results may
differ in float32 rounding between machines and runs; by default, or with
``deterministic=True``, it takes a fixed, machine-independent choice
(``lamina.ops.conv.choose_algorithm``).
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["allow_tf32", "benchmark", "benchmark_limit", "deterministic", "enabled", "flags",
           "fp32_precision", "is_acceptable", "is_available", "version"]

enabled = True
benchmark = False
benchmark_limit = None  # torch: None without cuDNN
deterministic = False
allow_tf32 = True
fp32_precision = "none"


def is_available() -> bool:
    """False: lamina does not use cuDNN."""
    return False


def version():
    """None: no cuDNN is loaded (as in a CPU-only torch)."""
    return None


def is_acceptable(tensor) -> bool:
    """Whether cuDNN would take ``tensor``: never, without cuDNN."""
    return False


_NAMES = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
          "fp32_precision")


@contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """Set the flags inside a ``with`` block and restore them after (torch's defaults)."""
    g = globals()
    saved = {k: g[k] for k in _NAMES}
    g.update(enabled=enabled, benchmark=benchmark, deterministic=deterministic,
             allow_tf32=allow_tf32, fp32_precision=fp32_precision)
    try:
        yield
    finally:
        g.update(saved)
