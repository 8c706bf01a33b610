"""Adadelta: trajectories equal to torch.optim.Adadelta's."""

from __future__ import annotations

import pytest

from tests.optim.parity import run_parity

CONFIGS = [{}, {"lr": 0.5}, {"lr": 0.5, "rho": 0.5}, {"lr": 0.5, "weight_decay": 0.1},
           {"lr": 0.5, "maximize": True, "eps": 1e-4}]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_adadelta_trajectory_matches_torch(kwargs):
    run_parity("Adadelta", kwargs)
