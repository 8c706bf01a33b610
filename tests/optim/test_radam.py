"""RAdam: trajectories equal to torch.optim.RAdam's."""

from __future__ import annotations

import pytest

from tests.optim.parity import run_parity

CONFIGS = [{}, {"lr": 0.05}, {"lr": 0.05, "weight_decay": 0.1},
           {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
           {"lr": 0.05, "maximize": True}, {"lr": 0.05, "betas": (0.5, 0.9)}]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_radam_trajectory_matches_torch(kwargs):
    run_parity("RAdam", kwargs)
