"""Helpers for the workloads' NumPy floors (``floor_setup`` / ``floor_step``; see
``benchmarks/floor.py``). Not a workload."""

from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng(0)


def rand(*shape):
    """A float32 array of ``shape``, standard normal."""
    return _RNG.standard_normal(shape, dtype=np.float32)


def products(shapes):
    """For each ``(m, k, n)`` (or ``(batch, m, k, n)``): float32 operands and a result
    array, ready for ``run_products``."""
    out = []
    for s in shapes:
        lead = s[:-3]
        m, k, n = s[-3:]
        out.append((rand(*lead, m, k), rand(*lead, k, n), np.empty((*lead, m, n), np.float32)))
    return out


def run_products(prods):
    """Every product of ``products(...)``: one BLAS call each, into its result array."""
    mm = np.matmul
    for a, b, o in prods:
        mm(a, b, out=o)


def conv_products(n, c, o, k, osp, input_grad):
    """The GEMMs of one convolution's training step (im2col form, valid output positions
    only): forward ``(O, C*K) @ (C*K, N*P)``, weight gradient ``(O, N*P) @ (N*P, C*K)`` and,
    when ``input_grad``, the column gradient ``(C*K, O) @ (O, N*P)``."""
    p = n * osp[0] * osp[1]
    ck = c * k * k
    shapes = [(o, ck, p), (o, p, ck)]
    if input_grad:
        shapes.append((ck, o, p))
    return shapes


def linear_products(n, i, o, input_grad=True):
    """The GEMMs of one Linear's training step: forward, weight gradient, input gradient."""
    shapes = [(n, i, o), (o, n, i)]
    if input_grad:
        shapes.append((n, o, i))
    return shapes
