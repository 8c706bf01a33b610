"""Shared setup of the per-op workloads add_2x2_* and matmul_2x2_* (not a workload)."""

from __future__ import annotations

N_OPS = 1000  # ops per step: the step time / N_OPS is the time of one op


def setup(torch):
    """2x2 float32 operands that require grad (with grad each op records a node; under
    no_grad they are like a model's parameters at inference)."""
    a = torch.rand(2, 2, requires_grad=True)
    b = torch.rand(2, 2, requires_grad=True)
    return torch, a, b
