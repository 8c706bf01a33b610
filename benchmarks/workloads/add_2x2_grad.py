"""Per-op overhead: `a + b` on 2x2 float32 tensors that require grad, forward only,
1000 times per step (issue 16's "2x2 a + b with grad" row)."""

from __future__ import annotations

TARGET = 1.0  # lamina/torch time per step <= 1.0, i.e. at least torch's ops per second
ISSUE = 16
DESCRIPTION = (
    "1000 x (a + b) on 2x2 float32 inputs that require grad: forward only, each "
    "records a node (per-op overhead)"
)
N_OPS = 1000  # ops per step: the step time / N_OPS is the time of one op


def setup(torch):
    # inputs that require grad: each op records a graph node (no backward is run)
    a = torch.rand(2, 2, requires_grad=True)
    b = torch.rand(2, 2, requires_grad=True)
    return torch, a, b


def step(state):
    torch, a, b = state
    for _ in range(N_OPS):
        a + b  # the result (and its node) is dropped at once
