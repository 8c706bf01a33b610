"""Adagrad: parity with torch.optim.Adagrad; its state is created in the constructor."""

from __future__ import annotations

import pytest
import torch

import lamina
from tests.optim.parity import run_parity

CONFIGS = [
    {},
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.05},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.1, "initial_accumulator_value": 0.5},
    {"lr": 0.1, "maximize": True, "eps": 1e-3},
    {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "maximize": True,
     "initial_accumulator_value": 0.1},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_adagrad_trajectory_matches_torch(kwargs):
    run_parity("Adagrad", kwargs)


def test_adagrad_state_is_eager_like_torch():
    lp = lamina.nn.Parameter(lamina.ones(2, 3))
    tp = torch.nn.Parameter(torch.ones(2, 3))
    lsd = lamina.optim.Adagrad([lp], initial_accumulator_value=0.25).state_dict()
    tsd = torch.optim.Adagrad([tp], initial_accumulator_value=0.25).state_dict()
    assert list(lsd["state"]) == list(tsd["state"]) == [0]
    assert list(lsd["state"][0]) == list(tsd["state"][0]) == ["step", "sum"]
    assert lsd["state"][0]["sum"].tolist() == tsd["state"][0]["sum"].tolist()
    assert lsd["state"][0]["step"].item() == 0.0


@pytest.mark.parametrize("kwargs, msg", [
    ({"lr": -1}, "Invalid learning rate: -1"),
    ({"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ({"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
    ({"eps": -1}, "Invalid epsilon value: -1"),
])
def test_adagrad_errors_match_torch(kwargs, msg):
    with pytest.raises(ValueError) as te:
        torch.optim.Adagrad([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError) as le:
        lamina.optim.Adagrad([lamina.nn.Parameter(lamina.ones(1))], **kwargs)
    assert str(le.value) == str(te.value) == msg
