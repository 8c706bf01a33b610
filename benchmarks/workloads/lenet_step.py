"""d2l's LeNet-5: one SGD training step on a batch of 64 1x28x28 images."""

from __future__ import annotations

TARGET = 1.0
ISSUE = 16
DESCRIPTION = "d2l LeNet-5 (sigmoid, avg-pool), batch 64 x 1x28x28, CrossEntropyLoss, SGD(lr=0.1)"


def setup(torch):
    # the usual opt-in of conv training scripts: let the library pick its fastest convolution
    # algorithm per shape (torch: cuDNN autotuning, a no-op on its cpu; lamina: timed choice)
    torch.backends.cudnn.benchmark = True
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )
    X = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return net, X, y, nn.CrossEntropyLoss(), opt


def step(state):
    net, X, y, loss_fn, opt = state
    opt.zero_grad()
    loss = loss_fn(net(X), y)
    loss.backward()
    opt.step()


def floor_setup():
    from benchmarks.workloads._floor import conv_products, linear_products, products

    shapes = (conv_products(64, 1, 6, 5, (28, 28), False) + conv_products(64, 6, 16, 5, (10, 10), True)
              + linear_products(64, 400, 120) + linear_products(64, 120, 84)
              + linear_products(64, 84, 10))
    return products(shapes)


def floor_step(state):
    """The BLAS products alone (a lower bound): both convolutions in im2col form (forward,
    weight gradient; the second also its input gradient) and the three Linear layers
    (forward, weight and input gradients)."""
    from benchmarks.workloads._floor import run_products

    run_products(state)
