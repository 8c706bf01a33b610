"""AdamW: decoupled weight decay, default 1e-2, parity with torch.optim.AdamW."""

from __future__ import annotations

import pytest

import lamina
from tests.optim.parity import run_parity

CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "weight_decay": 0.2},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "maximize": True, "weight_decay": 0.1},
    {"lr": 0.05, "amsgrad": True, "maximize": True, "betas": (0.8, 0.95)},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_adamw_trajectory_matches_torch(kwargs):
    run_parity("AdamW", kwargs)


def test_adamw_defaults():
    opt = lamina.optim.AdamW([lamina.nn.Parameter(lamina.ones(1))])
    assert opt.defaults["weight_decay"] == 1e-2
    assert opt.defaults["decoupled_weight_decay"] is True
    assert isinstance(opt, lamina.optim.Adam)


def test_adamw_load_keeps_decoupled_decay():
    p = lamina.nn.Parameter(lamina.ones(1))
    sd = lamina.optim.Adam([p], weight_decay=0.1).state_dict()
    opt = lamina.optim.AdamW([p])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    assert opt.param_groups[0]["weight_decay"] == 0.1
