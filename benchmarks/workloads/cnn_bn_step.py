"""A small CIFAR-sized CNN with batch norm: one Adam training step on a batch of 32."""

from __future__ import annotations

TARGET = 1.2
ISSUE = 16
DESCRIPTION = (
    "Conv(3,32,3,p1)-BN-ReLU-MaxPool2-Conv(32,64,3,p1)-BN-ReLU-MaxPool2-Flatten-Linear(4096,10), "
    "batch 32 x 3x32x32, CrossEntropyLoss, Adam(lr=1e-3)"
)


def setup(torch):
    # the usual opt-in of conv training scripts: let the library pick its fastest convolution
    # algorithm per shape (torch: cuDNN autotuning, a no-op on its cpu; lamina: timed choice)
    torch.backends.cudnn.benchmark = True
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 10),
    )
    X = torch.randn(32, 3, 32, 32)
    y = torch.randint(0, 10, (32,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    return net, X, y, nn.CrossEntropyLoss(), opt


def step(state):
    net, X, y, loss_fn, opt = state
    opt.zero_grad()
    loss = loss_fn(net(X), y)
    loss.backward()
    opt.step()


def floor_setup():
    from benchmarks.workloads._floor import conv_products, linear_products, products

    shapes = (conv_products(32, 3, 32, 3, (32, 32), False)
              + conv_products(32, 32, 64, 3, (16, 16), True) + linear_products(32, 4096, 10))
    return products(shapes)


def floor_step(state):
    """The BLAS products alone (a lower bound): both convolutions in im2col form (forward,
    weight gradient; the second also its input gradient) and the Linear layer."""
    from benchmarks.workloads._floor import run_products

    run_products(state)
