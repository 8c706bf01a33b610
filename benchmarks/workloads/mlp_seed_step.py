"""The seed documents' MLP: one SGD training step on a batch of 2."""

from __future__ import annotations

TARGET = 0.3
ISSUE = 16
DESCRIPTION = (
    "Linear(20,256)-ReLU-Linear(256,10), X=rand(2,20), MSELoss, SGD(lr=0.1): "
    "zero_grad, forward, loss, backward, step"
)


def setup(torch):
    nn = torch.nn
    net = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
    X = torch.rand(2, 20)
    y = torch.rand(2, 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return net, X, y, nn.MSELoss(), opt


def step(state):
    net, X, y, loss_fn, opt = state
    opt.zero_grad()
    loss = loss_fn(net(X), y)
    loss.backward()
    opt.step()
