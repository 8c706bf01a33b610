"""Convolution throughput: Conv2d(64, 64, 3, padding=1) forward on 16x64x56x56."""

from __future__ import annotations

TARGET = 2.0
ISSUE = 6
DESCRIPTION = "Conv2d(64,64,3,padding=1) forward on 16x64x56x56 under torch.no_grad()"


def setup(torch):
    # the usual opt-in of conv training scripts: let the library pick its fastest convolution
    # algorithm per shape (torch: cuDNN autotuning, a no-op on its cpu; lamina: timed choice)
    torch.backends.cudnn.benchmark = True
    return torch, torch.nn.Conv2d(64, 64, 3, padding=1), torch.randn(16, 64, 56, 56)


def step(state):
    torch, conv, x = state
    with torch.no_grad():
        conv(x)
