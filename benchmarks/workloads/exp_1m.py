"""Large elementwise op: exp of 1,000,000 floats, forward and backward."""

from __future__ import annotations

TARGET = 1.5
ISSUE = 2
DESCRIPTION = "x.exp().backward(g), x: 1,000,000 float32 (g: ones, made once)"


def setup(torch):
    x = torch.rand(1_000_000, requires_grad=True)
    # A prebuilt output gradient keeps the timed graph to the one op being measured.
    return x, torch.ones(1_000_000)


def step(state):
    x, g = state
    x.exp().backward(g)
