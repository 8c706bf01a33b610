"""Module traversal: state_dict() and named_parameters() of a 10-layer MLP."""

from __future__ import annotations

TARGET = 1.0
ISSUE = 3
DESCRIPTION = "net.state_dict() + list(net.named_parameters()), net: 10 x Linear(64,64)"


def setup(torch):
    nn = torch.nn
    return nn.Sequential(*[nn.Linear(64, 64) for _ in range(10)])


def step(net):
    net.state_dict()
    list(net.named_parameters())
