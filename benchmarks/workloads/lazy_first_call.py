"""Lazy modules: construct a LazyLinear MLP and run its first (materializing) forward."""

from __future__ import annotations

TARGET = 0.3
ISSUE = 16
DESCRIPTION = (
    "Sequential(LazyLinear(256), ReLU(), LazyLinear(10)) built and called once on rand(2,20)"
)


def setup(torch):
    return torch.nn, torch.rand(2, 20)


def step(state):
    nn, X = state
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    net(X)
