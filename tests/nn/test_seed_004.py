"""Seed 004 (d2l 6.1 "层和模块"): the LazyLinear networks, run unchanged with
``import lamina as torch`` and with torch; printed text and values must be the same."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch as real_torch

import lamina

IMPORTS = {
    "import torch\n": "import lamina as torch\n",
    "from torch import nn\n": "from lamina import nn\n",
    "from torch.nn import functional as F\n": "from lamina.nn import functional as F\n",
}

HEADER = """import torch
from torch import nn
from torch.nn import functional as F
"""

SEQUENTIAL = HEADER + """net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))

X = torch.rand(2, 20)
print(net(X).shape)
print(net)
"""

MLP = HEADER + """class MLP(nn.Module):
  def __init__(self):
    # Call the constructor of the parent class nn.Module to perform
    # the necessary initialization
    super().__init__()
    self.hidden = nn.LazyLinear(256)
    self.out = nn.LazyLinear(10)

  # Define the forward propagation of the model, that is, how to return the
  # required model output based on the input X
  def forward(self, X):
    return self.out(F.relu(self.hidden(X)))

net = MLP()
print(net)
X = torch.rand(2, 20)
print(net(X).shape)
print(net)
"""


def run(code: str, lib: str) -> tuple[str, dict]:
    if lib == "lamina":
        for a, b in IMPORTS.items():
            code = code.replace(a, b)
        lamina.manual_seed(0)
    else:
        real_torch.manual_seed(0)
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"<seed004 {lib}>", "exec"), ns)  # noqa: S102 - test snippets
    return out.getvalue().replace("lamina.Size", "torch.Size"), ns


def test_sequential_lazylinear_shape_and_structure():
    out, ns = run(SEQUENTIAL, "lamina")
    tout, tns = run(SEQUENTIAL, "torch")
    assert out == tout == """torch.Size([2, 10])
Sequential(
  (0): Linear(in_features=20, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)
"""
    # same seed, same draws: the outputs agree with torch's
    net, tnet = ns["net"], tns["net"]
    for (n, p), (tn, tp) in zip(net.named_parameters(), tnet.named_parameters()):
        assert n == tn and np.array_equal(p.detach().numpy(), tp.detach().numpy())
    np.testing.assert_allclose(net(ns["X"]).detach().numpy(), tnet(tns["X"]).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_custom_mlp_with_lazylinear():
    out, ns = run(MLP, "lamina")
    tout, _ = run(MLP, "torch")
    assert out == tout == """MLP(
  (hidden): LazyLinear(in_features=0, out_features=256, bias=True)
  (out): LazyLinear(in_features=0, out_features=10, bias=True)
)
torch.Size([2, 10])
MLP(
  (hidden): Linear(in_features=20, out_features=256, bias=True)
  (out): Linear(in_features=256, out_features=10, bias=True)
)
"""
    net = ns["net"]
    assert type(net.hidden) is lamina.nn.Linear and type(net.out) is lamina.nn.Linear
    y = net(ns["X"])
    y.sum().backward()
    assert tuple(net.hidden.weight.grad.shape) == (256, 20)
