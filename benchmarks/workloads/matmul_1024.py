"""BLAS throughput: a 1024x1024 float32 matmul, forward only."""

from __future__ import annotations

TARGET = 1.2
ISSUE = 2
DESCRIPTION = "a @ b, 1024x1024 float32, no grad"


def setup(torch):
    return torch.rand(1024, 1024), torch.rand(1024, 1024)


def step(state):
    a, b = state
    a @ b
