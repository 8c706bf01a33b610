"""Per-op overhead: a + b on 2x2 float32 leaves, forward and backward."""

from __future__ import annotations

TARGET = 1.0
ISSUE = 2
DESCRIPTION = "(a + b).sum().backward() on 2x2 float32 leaves (per-op overhead)"


def setup(torch):
    a = torch.rand(2, 2, requires_grad=True)
    b = torch.rand(2, 2, requires_grad=True)
    return a, b


def step(state):
    a, b = state
    # .grad accumulates across calls, as in a training loop without zero_grad: same on both.
    (a + b).sum().backward()
