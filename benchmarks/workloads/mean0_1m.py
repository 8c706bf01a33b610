"""Large reduction along an axis: x.mean(0) on 1000x1000, forward and backward."""

from __future__ import annotations

TARGET = 1.5
ISSUE = 2
DESCRIPTION = "x.mean(0).backward(g), x: 1000x1000 float32 (g: ones, made once)"


def setup(torch):
    x = torch.rand(1000, 1000, requires_grad=True)
    # A prebuilt output gradient keeps the timed graph to the one op being measured.
    return x, torch.ones(1000)


def step(state):
    x, g = state
    x.mean(0).backward(g)
