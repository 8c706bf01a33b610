"""randn of 1M float32 values (the generator and the Box-Muller transform)."""

from __future__ import annotations

TARGET = 1.5
ISSUE = 11
DESCRIPTION = "torch.randn(1_000_000, dtype=float32) (MT19937 + Box-Muller, bit-identical)"


def setup(torch):
    torch.manual_seed(0)
    return torch, torch.float32


def step(state):
    torch, dtype = state
    torch.randn(1_000_000, dtype=dtype)
