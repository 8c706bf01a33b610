"""An MNIST-sized MLP: inference on one sample under no_grad."""

from __future__ import annotations

from benchmarks.workloads._mlp784 import make_mlp

TARGET = 0.3
ISSUE = 16
DESCRIPTION = "784-256-256-10 ReLU MLP, batch 1, forward under torch.no_grad()"


def setup(torch):
    return torch, make_mlp(torch), torch.randn(1, 784)


def step(state):
    torch, net, x = state
    with torch.no_grad():
        net(x)
