"""Large reduction: sum of 1,000,000 floats, forward and backward."""

from __future__ import annotations

TARGET = 1.5
ISSUE = 2
DESCRIPTION = "x.sum().backward(), x: 1,000,000 float32"


def setup(torch):
    return torch.rand(1_000_000, requires_grad=True)


def step(x):
    x.sum().backward()
