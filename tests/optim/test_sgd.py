"""SGD: trajectories equal to torch.optim.SGD's, options, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.optim.parity import run_parity

CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.02, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_sgd_trajectory_matches_torch(kwargs):
    run_parity("SGD", kwargs)


def test_sgd_param_groups_with_own_options():
    run_parity("SGD", {"lr": 0.01, "momentum": 0.9},
               group_kwargs=[{"lr": 0.05}, {"momentum": 0.5, "weight_decay": 0.1}])


def test_sgd_state_is_created_only_with_momentum():
    p = lamina.nn.Parameter(lamina.ones(3))
    p.grad = lamina.ones(3)
    opt = lamina.optim.SGD([p], lr=0.1)
    opt.step()
    assert len(opt.state) == 0
    opt2 = lamina.optim.SGD([p], lr=0.1, momentum=0.9)
    opt2.step()
    assert list(opt2.state[p]) == ["momentum_buffer"]
    np.testing.assert_allclose(opt2.state[p]["momentum_buffer"].numpy(), np.ones(3))


def test_sgd_tensor_lr():
    p = lamina.nn.Parameter(lamina.ones(2))
    p.grad = lamina.ones(2)
    opt = lamina.optim.SGD([p], lr=lamina.tensor(0.25))
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.75, 0.75])


@pytest.mark.parametrize("kwargs, msg", [
    ({"lr": -1}, "Invalid learning rate: -1"),
    ({"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
    ({"lr": 0.1, "weight_decay": -1e-3}, "Invalid weight_decay value: -0.001"),
    ({"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
     "Nesterov momentum requires a momentum and zero dampening"),
])
def test_sgd_errors_match_torch(kwargs, msg):
    with pytest.raises(ValueError) as te:
        torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as le:
        lamina.optim.SGD([lamina.nn.Parameter(lamina.ones(1))], **kwargs)
    assert str(le.value) == str(te.value) == msg


def test_sgd_step_records_no_graph_and_bumps_version():
    p = lamina.nn.Parameter(lamina.ones(2))
    (p * 3).sum().backward()
    v0 = p._version
    lamina.optim.SGD([p], lr=0.1, momentum=0.9).step()
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    assert p._version == v0 + 1
    np.testing.assert_allclose(p.detach().numpy(), [0.7, 0.7], rtol=1e-6)


def test_sgd_momentum_state_follows_dtype_change_and_resets_on_shape_change():
    # the momentum buffer is checked against its parameter every step: moved along when
    # the parameter's dtype changes (model.double()), started afresh when its shape changes
    # (a lazy module materialized after the optimizer stepped)
    p = lamina.nn.Parameter(lamina.ones(2))
    opt = lamina.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = lamina.ones(2)
    opt.step()
    p.data = p.data.double()
    p.grad = lamina.ones(2, dtype=lamina.float64)
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    assert buf.dtype == lamina.float64
    np.testing.assert_allclose(buf.numpy(), [1.9, 1.9])
    np.testing.assert_allclose(p.detach().numpy(), [1 - 0.1 - 0.19] * 2, rtol=1e-6)
    p.data = lamina.zeros(3, dtype=lamina.float64)
    p.grad = lamina.full((3,), 2.0, dtype=lamina.float64)
    opt.step()
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(p.detach().numpy(), [-0.2, -0.2, -0.2])
