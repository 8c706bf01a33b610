"""Seed 000 (deferred initialization, d2l's "延迟初始化"): every snippet, run unchanged with
``import lamina as torch`` and with torch; the printed text must be the same.

The scraped snippets are rewritten as valid Python (indentation restored), their calls kept.
Each snippet runs in its own namespace after ``manual_seed(0)`` on both sides, so the printed
parameter values agree too (lamina's default initialization draws torch's stream). The only
normalization is the name of the Size class (``lamina.Size`` prints as ``torch.Size``).
The seed's exercises are answered in tests/nn/test_lazy.py (partial dims, mismatched dims,
varying dims).
"""

from __future__ import annotations

import contextlib
import io

import pytest
import torch as real_torch

import lamina

IMPORTS = {
    "import torch\n": "import lamina as torch\n",
    "import torch.nn as nn\n": "import lamina.nn as nn\n",
    "from torch import nn\n": "from lamina import nn\n",
}


def run(code: str, lib: str, env: dict | None = None) -> tuple[str, dict]:
    """exec ``code`` (the snippet as the seed writes it) against ``lib``; return its stdout."""
    if lib == "lamina":
        for a, b in IMPORTS.items():
            code = code.replace(a, b)
        lamina.manual_seed(0)
    else:
        real_torch.manual_seed(0)
    ns = {} if env is None else env
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"<seed000 {lib}>", "exec"), ns)  # noqa: S102 - test snippets
    return out.getvalue().replace("lamina.Size", "torch.Size"), ns


def both(code: str, env_code: str = "") -> tuple[str, dict]:
    """Run with lamina and torch (after the shared ``env_code``); same stdout required."""
    envs = []
    outs = []
    for lib in ("lamina", "torch"):
        _, env = run(env_code, lib) if env_code else ("", {})
        out, ns = run(code, lib, env)
        outs.append(out)
        envs.append(ns)
    assert outs[0] == outs[1]
    return outs[0], envs[0]


# ---------------------------------------------------------------------------- 一、实例化一个网络
GETNET = """import torch
import torch.nn as nn
def getnet(in_features,out_features):
    net=nn.Sequential(
    nn.Linear(in_features,256),
    nn.ReLU(),
    nn.Linear(256,out_features))
    return net
net=getnet(20,10)
print(net)
"""


def test_snippet1_getnet_print():
    out, _ = both(GETNET)
    assert out == """Sequential(
  (0): Linear(in_features=20, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)
"""


NAMED = """for name,param in net.named_parameters():
    print(name,'----',param.shape)
"""


def test_snippet1_named_parameters():
    out, _ = both(NAMED, GETNET)
    assert out == ("0.weight ---- torch.Size([256, 20])\n0.bias ---- torch.Size([256])\n"
                   "2.weight ---- torch.Size([10, 256])\n2.bias ---- torch.Size([10])\n")


# ---------------------------------------------------------------------------- 二、延迟初始化的实践
INIT_WEIGHTS = """def init_weights(m):
    print("Init",m)
net.apply(init_weights) # 每层都循环一下,最后对整个Sequential也进行 *** 作
print('网络结构:\\n',net)
print('第一层网络结构:\\n',net[0].weight)
print('第二层网络结构:\\n',net[2].weight)
"""


def test_snippet2_apply_init_weights_prints_same_values():
    out, _ = both(INIT_WEIGHTS, GETNET)
    assert out.startswith("Init Linear(in_features=20, out_features=256, bias=True)\n"
                          "Init ReLU()\nInit Linear(in_features=256, out_features=10, bias=True)\n"
                          "Init Sequential(\n")
    assert "第一层网络结构:\n Parameter containing:\ntensor([[" in out
    assert out.rstrip().endswith("requires_grad=True)")


FORWARD = """x=torch.rand((2,20))
y=net(x) # Forward computation
for name,param in net.named_parameters():
    print(name,param.shape)
"""


def test_snippet2_forward_then_shapes():
    out, ns = both(FORWARD, GETNET)
    assert out == ("0.weight torch.Size([256, 20])\n0.bias torch.Size([256])\n"
                   "2.weight torch.Size([10, 256])\n2.bias torch.Size([10])\n")
    assert tuple(ns["y"].shape) == (2, 10)


LAZY = """import torch
from torch import nn
net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(),nn.Linear(256,10))
print(net)
[net[i].state_dict() for i in range(len(net))]
low = torch.finfo(torch.float32).min/10
high = torch.finfo(torch.float32).max/10
X = torch.zeros([2,20],dtype=torch.float32).uniform_(low, high)
net(X)
print(net)
"""


def test_snippet2_lazylinear_before_and_after_forward():
    out, ns = both(LAZY)
    assert out == """Sequential(
  (0): LazyLinear(in_features=0, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)
Sequential(
  (0): Linear(in_features=20, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)
"""
    assert type(ns["net"][0]) is lamina.nn.Linear


def test_snippet2_lazy_state_dicts_before_forward():
    # the seed evaluates [net[i].state_dict() ...] before the first call: torch lists the
    # pending parameters as themselves; so does lamina
    net = lamina.nn.Sequential(lamina.nn.LazyLinear(256), lamina.nn.ReLU(),
                               lamina.nn.Linear(256, 10))
    sds = [net[i].state_dict() for i in range(len(net))]
    assert list(sds[0]) == ["weight", "bias"]
    assert all(isinstance(v, lamina.nn.UninitializedParameter) for v in sds[0].values())
    assert sds[1] == {} and list(sds[2]) == ["weight", "bias"]
    tnet = real_torch.nn.Sequential(real_torch.nn.LazyLinear(256), real_torch.nn.ReLU(),
                                    real_torch.nn.Linear(256, 10))
    tsds = [tnet[i].state_dict() for i in range(len(tnet))]
    assert [list(s) for s in sds] == [list(s) for s in tsds]
    assert repr(sds[0]["weight"]) == repr(tsds[0]["weight"]) == "<UninitializedParameter>"


# ---------------------------------------------------------------------------- 三、强制初始化
NET1 = """import torch
from torch import nn
net1=nn.Sequential()
net1.add_module("Linear1",nn.Linear(20,256))
net1.add_module("Linear2",nn.Linear(256,10))
print(net1)
"""

FORCED = """def init_weights_forced(m):
    if type(m) == nn.Linear:
        torch.nn.init.xavier_uniform_(m.weight)
net1.apply(init_weights_forced)
for name,param in net1.named_parameters():
    print(name,param.shape)
"""


def test_snippet3_add_module_print():
    out, _ = both(NET1)
    assert out == """Sequential(
  (Linear1): Linear(in_features=20, out_features=256, bias=True)
  (Linear2): Linear(in_features=256, out_features=10, bias=True)
)
"""


def test_snippet3_forced_init():
    out, ns = both(FORCED, NET1)
    assert out == ("Linear1.weight torch.Size([256, 20])\nLinear1.bias torch.Size([256])\n"
                   "Linear2.weight torch.Size([10, 256])\nLinear2.bias torch.Size([10])\n")
    # and xavier_uniform_ really ran: |w| <= sqrt(6 / (fan_in + fan_out))
    w = ns["net1"].Linear1.weight
    assert float(w.abs().max()) <= (6 / (20 + 256)) ** 0.5


@pytest.mark.parametrize("lazy", [True, False])
def test_snippet3_forced_init_values_match_torch(lazy):
    """The forced-init values equal torch's (same seed); with LazyLinear in lamina the
    recorded xavier_uniform_ is replayed at the first forward and gives the same numbers."""
    lamina.manual_seed(0)
    real_torch.manual_seed(0)
    tnet = real_torch.nn.Sequential(real_torch.nn.Linear(20, 256))
    real_torch.nn.init.xavier_uniform_(tnet[0].weight)
    lamina.manual_seed(0)
    if lazy:
        net = lamina.nn.Sequential(lamina.nn.LazyLinear(256))
        lamina.nn.init.xavier_uniform_(net[0].weight)  # recorded: the shape is not known
        net(lamina.zeros(2, 20))
    else:
        net = lamina.nn.Sequential(lamina.nn.Linear(20, 256))
        lamina.nn.init.xavier_uniform_(net[0].weight)
    assert (net[0].weight.detach().numpy() == tnet[0].weight.detach().numpy()).all()
    assert (net[0].bias.detach().numpy() == tnet[0].bias.detach().numpy()).all()
