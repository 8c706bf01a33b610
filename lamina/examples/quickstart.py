"""The seed network from the README: build, train a few steps, print losses and shapes.

Run: ``python -m lamina.examples.quickstart``
"""

from __future__ import annotations

import lamina as torch
from lamina import nn


def main(steps: int = 5) -> list[float]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    X = torch.rand(2, 20)
    y = torch.rand(2, 10)
    print(net)  # lazy: in_features=0 until the first call
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print(f"step {step}: loss {loss.item():.4f}")
    print(net)
    for name, p in net.named_parameters():
        print(f"{name:10s} {tuple(p.shape)}")
    return losses


if __name__ == "__main__":
    main()
