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


def floor_setup():
    from benchmarks.workloads._floor import rand

    return [(rand(256, 784), rand(256)), (rand(256, 256), rand(256)), (rand(10, 256), rand(10))], \
        rand(1, 784)


def floor_step(state):
    """All the arithmetic: three ``dot`` products, the bias adds and two ``maximum``."""
    import numpy as np

    layers, h = state
    for i, (w, b) in enumerate(layers):
        h = h.dot(w.T)
        h += b
        if i < 2:
            np.maximum(h, 0, out=h)
