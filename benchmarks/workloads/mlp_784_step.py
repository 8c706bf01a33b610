"""An MNIST-sized MLP: one SGD-with-momentum training step on a batch of 128."""

from __future__ import annotations

from benchmarks.workloads._mlp784 import make_mlp

TARGET = 0.9
ISSUE = 16
DESCRIPTION = "784-256-256-10 ReLU MLP, batch 128, CrossEntropyLoss, SGD(lr=0.01, momentum=0.9)"


def setup(torch):
    net = make_mlp(torch)
    X = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    return net, X, y, torch.nn.CrossEntropyLoss(), opt


def step(state):
    net, X, y, loss_fn, opt = state
    opt.zero_grad()
    loss = loss_fn(net(X), y)
    loss.backward()
    opt.step()
