"""lamina.nn.utils.materialize: one explicit call that finishes every lazy module of a model."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import nn
from lamina.nn.utils import materialize


def convnet():
    return nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Dropout(0.5),
                         nn.Flatten(), nn.LazyLinear(10))


def test_from_input_shape():
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    assert materialize(net, input_shape=(2, 20)) is net
    assert repr(net) == """Sequential(
  (0): Linear(in_features=20, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)"""
    assert sum(p.numel() for p in net.parameters()) == 20 * 256 + 256 + 256 * 10 + 10
    assert all(p.grad is None for p in net.parameters())


def test_from_example_inputs_and_unbatched_shape():
    net = convnet()
    materialize(net, lamina.randn(3, 3, 8, 8))
    assert net[5].in_features == 4 * 6 * 6 and type(net[0]) is nn.Conv2d
    net2 = nn.Sequential(nn.LazyLinear(3))
    materialize(net2, input_shape=7)  # an int is a 1-D shape
    assert net2[0].in_features == 7


def test_dry_run_changes_no_state_and_restores_modes():
    net = convnet()
    net[3].eval()  # mixed modes are restored module by module
    lamina.manual_seed(0)
    materialize(net, input_shape=(2, 3, 8, 8))
    assert net.training and net[1].training and not net[3].training
    bn = net[1]
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert int(bn.num_batches_tracked) == 0
    # the dry run drew only the initializations: the same as materializing by a forward
    # pass in eval mode after the same seed
    ref = convnet().eval()
    lamina.manual_seed(0)
    with lamina.no_grad():
        ref(lamina.zeros(2, 3, 8, 8))
    for (n, p), (_, q) in zip(net.named_parameters(), ref.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=n)


def test_several_inputs_and_dtype():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.LazyLinear(4)
            self.b = nn.LazyLinear(4)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    m = Two().double()
    materialize(m, input_shape=[(2, 3), (2, 5)])
    assert (m.a.in_features, m.b.in_features) == (3, 5)
    assert m.a.weight.dtype is lamina.float64  # zeros made in the model's dtype
    m2 = Two()
    materialize(m2, lamina.randn(1, 6), lamina.randn(1, 2))
    assert (m2.a.in_features, m2.b.in_features) == (6, 2)


def test_model_without_lazy_modules_is_not_run():
    net = nn.Sequential(nn.Linear(2, 3))
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    assert materialize(net, input_shape=(1, 2)) is net and calls == []


def test_unreached_lazy_module_is_named():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.LazyLinear(2)
            self.aux = nn.Sequential(nn.LazyLinear(2))

        def forward(self, x, use_aux=False):
            return self.aux(x) if use_aux else self.main(x)

    m = Branchy()
    with pytest.raises(RuntimeError, match=r"materialize: the forward pass did not reach "
                       r"'aux.0' \(LazyLinear\)"):
        materialize(m, input_shape=(1, 3))
    assert type(m.main) is nn.Linear


def test_argument_errors():
    net = nn.Sequential(nn.LazyLinear(2))
    with pytest.raises(TypeError, match="not both"):
        materialize(net, lamina.zeros(1, 2), input_shape=(1, 2))
    with pytest.raises(TypeError, match="got neither"):
        materialize(net)
    with pytest.raises(TypeError, match="input_shape must be a shape"):
        materialize(net, input_shape="2x3")
    with pytest.raises(TypeError, match="must be an nn.Module"):
        materialize(lambda x: x, input_shape=(1, 2))
    assert type(net[0]) is nn.LazyLinear


def test_failed_dry_run_restores_modes():
    net = nn.Sequential(nn.LazyConv2d(2, 3), nn.LazyLinear(2))
    with pytest.raises(RuntimeError):
        materialize(net, input_shape=(2, 3))  # a 2-D input for a conv
    assert net.training and net[0].training


def test_dry_forward_restores_modes_even_on_error():
    from lamina.nn.utils.materialize import dry_forward

    net = nn.Sequential(nn.Dropout(0.5), nn.Linear(2, 2))
    net[1].eval()
    out = dry_forward(net, (lamina.ones(1, 2),))
    assert not out.requires_grad and net.training and not net[1].training
    with pytest.raises(RuntimeError):
        dry_forward(net, (lamina.ones(1, 3),))
    assert net[0].training and not net[1].training
