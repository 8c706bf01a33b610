"""Seed 002 ("Pytorch:参数初始化 笔记", a tour of torch.nn.init), every snippet.

Each snippet is run twice, once with ``import lamina as torch`` and once with real torch,
after the same ``manual_seed``: the printed tensors (and the weights) must be the same text,
since lamina's generator and initializers follow torch's stream. The document's own printed
values came from unseeded runs, so only their shapes and structure are checked against it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as real_torch

import lamina

LIBS = {"lamina": lamina, "torch": real_torch}


def run_both(snippet, capsys, seed=0):
    """Run ``snippet(torch, nn)`` with each library after manual_seed(seed); return outputs."""
    out = {}
    for name, lib in LIBS.items():
        lib.manual_seed(seed)
        res = snippet(lib, lib.nn)
        out[name] = (capsys.readouterr().out, res)
    return out["lamina"], out["torch"]


def arrays(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def assert_same_state(a, b):
    sa, sb = arrays(a), arrays(b)
    assert list(sa) == list(sb)
    for k, v in sb.items():
        np.testing.assert_array_equal(sa[k], v, err_msg=k)


# ---------------------------------------------------------------------------- 2.1 defaults
# The pytorch 0.4 reset_parameters the document quotes, run as functions on today's layers.


def conv_reset_parameters(self):
    n = self.in_channels
    for k in self.kernel_size:
        n *= k
    stdv = 1. / math.sqrt(n)
    self.weight.data.uniform_(-stdv, stdv)
    if self.bias is not None:
        self.bias.data.uniform_(-stdv, stdv)


def linear_reset_parameters(self):
    stdv = 1. / math.sqrt(self.weight.size(1))
    self.weight.data.uniform_(-stdv, stdv)
    if self.bias is not None:
        self.bias.data.uniform_(-stdv, stdv)


def bn_reset_parameters(self):
    self.reset_running_stats()
    if self.affine:
        self.weight.data.uniform_()
        self.bias.data.zero_()


@pytest.mark.parametrize("make, reset", [
    (lambda nn: nn.Conv2d(3, 6, 5), conv_reset_parameters),
    (lambda nn: nn.Conv1d(2, 4, 3), conv_reset_parameters),
    (lambda nn: nn.Linear(20, 30), linear_reset_parameters),
    (lambda nn: nn.BatchNorm2d(7), bn_reset_parameters),
    (lambda nn: nn.BatchNorm1d(5), bn_reset_parameters),
], ids=["conv2d", "conv1d", "linear", "bn2d", "bn1d"])
def test_2_1_old_reset_parameters(capsys, make, reset):
    def snippet(torch, nn):
        m = make(nn)
        reset(m)
        return m

    (_, mine), (_, theirs) = run_both(snippet, capsys)
    assert_same_state(mine, theirs)
    if isinstance(mine, lamina.nn.Linear):  # the old bound is today's bound too
        bound = 1 / math.sqrt(20)
        assert float(mine.weight.abs().max()) <= bound


@pytest.mark.parametrize("make", [lambda nn: nn.Conv2d(3, 6, 5), lambda nn: nn.Linear(20, 30),
                                  lambda nn: nn.BatchNorm2d(4)], ids=["conv", "linear", "bn"])
def test_2_1_default_init_without_any_call(capsys, make):
    (_, mine), (_, theirs) = run_both(lambda torch, nn: make(nn), capsys, seed=7)
    assert_same_state(mine, theirs)


# ---------------------------------------------------------------------------- 2.2 - 2.10


def s_2_2(torch, nn):
    w = torch.empty(2, 3)
    nn.init.uniform_(w)
    print(w)
    return w


def s_2_3(torch, nn):
    w = torch.empty(2, 3)
    nn.init.normal_(w)
    print(w)
    return w


def s_2_4(torch, nn):
    w = torch.empty(2, 3)
    nn.init.constant_(w, 0.3)
    print(w)
    return w


def s_2_5(torch, nn):
    w = torch.empty(2, 3)
    nn.init.eye_(w)
    print(w)
    return w


def s_2_6(torch, nn):
    w = torch.empty(3, 3, 3)
    nn.init.dirac_(w)
    print(w)
    return w


def s_2_7(torch, nn):
    w = torch.empty(2, 3)
    nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('relu'))
    print(w)
    return w


def s_2_8(torch, nn):
    w = torch.empty(2, 3)
    nn.init.xavier_normal_(w)
    print(w)
    return w


def s_2_9(torch, nn):
    w = torch.empty(2, 3)
    nn.init.kaiming_uniform_(w, mode='fan_in', nonlinearity='relu')
    print(w)
    return w


def s_2_10(torch, nn):
    w = torch.empty(2, 3)
    nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')
    print(w)
    return w


# the document's printed outputs: exact for the deterministic ones
DOC_EXACT = {
    "s_2_4": "tensor([[0.3000, 0.3000, 0.3000],\n        [0.3000, 0.3000, 0.3000]])\n",
    "s_2_5": "tensor([[1., 0., 0.],\n        [0., 1., 0.]])\n",
    "s_2_6": ("tensor([[[0., 1., 0.],\n         [0., 0., 0.],\n         [0., 0., 0.]],\n\n"
              "        [[0., 0., 0.],\n         [0., 1., 0.],\n         [0., 0., 0.]],\n\n"
              "        [[0., 0., 0.],\n         [0., 0., 0.],\n         [0., 1., 0.]]])\n"),
}

SNIPPETS = [s_2_2, s_2_3, s_2_4, s_2_5, s_2_6, s_2_7, s_2_8, s_2_9, s_2_10]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.__name__ for s in SNIPPETS])
@pytest.mark.parametrize("seed", [0, 2024])
def test_2_x_printed_like_torch(capsys, snippet, seed):
    (out, mine), (tout, theirs) = run_both(snippet, capsys, seed)
    assert out == tout
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    if snippet.__name__ in DOC_EXACT:
        assert out == DOC_EXACT[snippet.__name__]


def test_2_x_ranges():
    # the properties the document states for each initializer
    w = lamina.nn.init.uniform_(lamina.empty(2, 3))
    assert bool(((w >= 0) & (w < 1)).all())
    relu = lamina.nn.init.calculate_gain('relu')
    w = lamina.nn.init.xavier_uniform_(lamina.empty(2, 3), gain=relu)
    assert float(w.abs().max()) <= relu * math.sqrt(6 / 5)
    w = lamina.nn.init.kaiming_uniform_(lamina.empty(2, 3), mode='fan_in', nonlinearity='relu')
    assert float(w.abs().max()) <= math.sqrt(2) * math.sqrt(3 / 3)


# ---------------------------------------------------------------------------- 3.1 for loop


def make_mynet(nn):
    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 4, 3)
            self.fc = nn.Linear(4 * 4 * 4, 10)
            self.bn2 = nn.BatchNorm1d(10)

        def forward(self, x):
            x = nn.functional.relu(self.bn1(self.conv1(x)))
            x = nn.functional.relu(self.conv2(x))
            return self.bn2(self.fc(x.flatten(1)))

    return MyNet()


def test_3_1_modules_loop(capsys):
    def snippet(torch, nn):
        net = make_mynet(nn)

        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        return net

    (_, mine), (_, theirs) = run_both(snippet, capsys, seed=1)
    assert_same_state(mine, theirs)
    assert bool((mine.bn1.weight == 1).all()) and mine.conv1.weight.requires_grad
    assert mine(lamina.randn(2, 3, 6, 6)).shape == (2, 10)


# ---------------------------------------------------------------------------- 3.2 apply


def test_3_2_apply_weights_init_kaiming(capsys):
    def snippet(torch, nn):
        init = nn.init

        def weights_init_kaiming(m):
            classname = m.__class__.__name__
            # print(classname)
            if classname.find('Conv') != -1:
                init.kaiming_normal(m.weight.data, a=0, mode='fan_in')
            elif classname.find('Linear') != -1:
                init.kaiming_normal_(m.weight.data, a=0, mode='fan_out')
                init.constant_(m.bias.data, 0.0)
            elif classname.find('BatchNorm1d') != -1:
                init.normal_(m.weight.data, 1.0, 0.02)
                init.constant_(m.bias.data, 0.0)

        net = make_mynet(nn)
        # apply函数会递归地搜索网络内的所有module并把参数表示的函数应用到所有的module上。
        with pytest.warns(FutureWarning, match="nn.init.kaiming_normal` is now deprecated"):
            net.apply(weights_init_kaiming)
        return net

    (_, mine), (_, theirs) = run_both(snippet, capsys, seed=3)
    assert_same_state(mine, theirs)
    assert bool((mine.fc.bias == 0).all())
    assert abs(float(mine.bn2.weight.mean()) - 1.0) < 0.05


def test_3_2_apply_weights_init_as_written(capsys):
    # `xavier` is never defined in the document: torch raises NameError, and so does lamina
    def snippet(torch, nn):
        def weights_init(m):
            if isinstance(m, nn.Conv2d):
                xavier(m.weight.data)  # noqa: F821 - the document's own (undefined) name
                xavier(m.bias.data)  # noqa: F821

        net = make_mynet(nn)
        with pytest.raises(NameError, match="xavier"):
            net.apply(weights_init)
        return net

    run_both(snippet, capsys)


def test_3_2_apply_weights_init_with_xavier_defined(capsys):
    # with xavier = xavier_uniform_, the bias (1-D) has no fan: ValueError in both
    def snippet(torch, nn):
        xavier = nn.init.xavier_uniform_

        def weights_init(m):
            if isinstance(m, nn.Conv2d):
                xavier(m.weight.data)
                xavier(m.bias.data)

        net = make_mynet(nn)
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            net.apply(weights_init)
        return net

    (_, mine), (_, theirs) = run_both(snippet, capsys, seed=4)
    assert_same_state(mine, theirs)  # the first conv weight was drawn before the error
