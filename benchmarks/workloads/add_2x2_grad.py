"""Per-op overhead: `a + b` on 2x2 float32 tensors that require grad, forward only,
1000 times per step (issue 16's "2x2 a + b with grad" row)."""

from __future__ import annotations

from benchmarks.workloads._per_op import N_OPS, setup  # noqa: F401 - setup is the workload's

TARGET = 1.0  # lamina/torch time per step <= 1.0, i.e. at least torch's ops per second
ISSUE = 16
DESCRIPTION = (
    "1000 x (a + b) on 2x2 float32 inputs that require grad: forward only, each "
    "records a node (per-op overhead)"
)


def step(state):
    torch, a, b = state
    for _ in range(N_OPS):
        a + b  # the result (and its node) is dropped at once
