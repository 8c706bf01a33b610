"""The 784-256-256-10 ReLU MLP shared by mlp_784_step and mlp_784_infer (not a workload)."""

from __future__ import annotations


def make_mlp(torch):
    """A fresh 784-256-256-10 ReLU MLP built with the library under test."""
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )
