"""RMSprop: parity with torch.optim.RMSprop (centered, momentum, weight decay, maximize)."""

from __future__ import annotations

import pytest
import torch

import lamina
from tests.optim.parity import run_parity

CONFIGS = [
    {},
    {"lr": 0.02, "alpha": 0.9},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "maximize": True},
    {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.01, "alpha": 0.4, "centered": True, "eps": 1e-2},  # well-conditioned sqrt
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_rmsprop_trajectory_matches_torch(kwargs):
    run_parity("RMSprop", kwargs)


@pytest.mark.parametrize("kwargs, msg", [
    ({"lr": -1.0}, "Invalid learning rate: -1.0"),
    ({"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ({"momentum": -1}, "Invalid momentum value: -1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ({"alpha": -0.5}, "Invalid alpha value: -0.5"),
])
def test_rmsprop_errors_match_torch(kwargs, msg):
    with pytest.raises(ValueError) as te:
        torch.optim.RMSprop([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as le:
        lamina.optim.RMSprop([lamina.nn.Parameter(lamina.ones(1))], **kwargs)
    assert str(le.value) == str(te.value) == msg
