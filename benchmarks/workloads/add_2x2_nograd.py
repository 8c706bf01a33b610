"""Per-op overhead: `a + b` on 2x2 float32 tensors that require grad, under no_grad,
1000 times per step (issue 16's "2x2 a + b no_grad" row)."""

from __future__ import annotations

from benchmarks.workloads._per_op import N_OPS, setup  # noqa: F401 - setup is the workload's

TARGET = 1.0  # lamina/torch time per step <= 1.0, i.e. at least torch's ops per second
ISSUE = 16
DESCRIPTION = (
    "1000 x (a + b) under no_grad on 2x2 float32 inputs that require grad "
    "(per-op overhead)"
)


def step(state):
    torch, a, b = state
    with torch.no_grad():
        for _ in range(N_OPS):
            a + b
