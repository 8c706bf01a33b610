"""Adam: trajectories equal to torch.optim.Adam's (amsgrad, weight decay, maximize ...)."""

from __future__ import annotations

import pytest
import torch

import lamina
from tests.optim.parity import run_parity

CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.05, "betas": (0.5, 0.9)},
    {"lr": 0.05, "betas": (0.3, 0.99), "eps": 1e-3},
    {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_adam_trajectory_matches_torch(kwargs):
    run_parity("Adam", kwargs)


def test_adam_param_groups():
    run_parity("Adam", {"lr": 0.01},
               group_kwargs=[{"lr": 0.05, "amsgrad": True}, {"betas": (0.8, 0.99)}])


def test_adam_state_layout():
    lopt, _, lp, _ = run_parity("Adam", {"lr": 0.01, "amsgrad": True}, steps=3)
    st = lopt.state[lp[0]]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert st["step"].dtype == lamina.float32 and st["step"].shape == ()
    assert st["step"].item() == 3.0
    assert st["exp_avg"].dtype == lamina.float32


@pytest.mark.parametrize("kwargs, msg", [
    ({"lr": -0.1}, "Invalid learning rate: -0.1"),
    ({"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ({"betas": (0, 0.9)}, "betas must be either both floats or both Tensors"),
])
def test_adam_errors_match_torch(kwargs, msg):
    with pytest.raises(ValueError) as te:
        torch.optim.Adam([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as le:
        lamina.optim.Adam([lamina.nn.Parameter(lamina.ones(1))], **kwargs)
    assert str(le.value) == str(te.value) == msg


def test_adam_differentiable_is_refused():
    with pytest.raises(RuntimeError, match="differentiable=True"):
        lamina.optim.Adam([lamina.nn.Parameter(lamina.ones(1))], differentiable=True)
