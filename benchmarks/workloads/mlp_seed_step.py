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


def floor_setup():
    from benchmarks.workloads._floor import rand

    return rand(256, 20), rand(256), rand(10, 256), rand(10), rand(2, 20), rand(2, 10)


def floor_step(state):
    """All the arithmetic of the step: forward (two products, bias adds, ``maximum``), the
    mean squared error, its backward (three products, two bias sums, the ReLU mask) and the
    four SGD updates."""
    import numpy as np

    w1, b1, w2, b2, x, y = state
    h = x.dot(w1.T)
    h += b1
    r = np.maximum(h, 0)
    o = r.dot(w2.T)
    o += b2
    d = o - y
    (d * d).sum() / d.size
    go = d * (2.0 / d.size)
    gw2 = go.T.dot(r)
    gb2 = go.sum(0)
    gh = go.dot(w2)
    gh *= h > 0
    gw1 = gh.T.dot(x)
    gb1 = gh.sum(0)
    for p, g in ((w1, gw1), (b1, gb1), (w2, gw2), (b2, gb2)):
        p -= g * 0.1
