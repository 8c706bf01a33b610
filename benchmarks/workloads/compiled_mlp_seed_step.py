"""mlp_seed_step's training step, compiled on lamina (lamina.compile), eager on torch."""

from __future__ import annotations

from benchmarks.workloads import mlp_seed_step

TARGET = 0.2
ISSUE = 16
DESCRIPTION = ("mlp_seed_step (zero_grad, forward, MSELoss, backward, SGD step) as one "
               "function: torch.compile'd on lamina, eager on torch (compiled lamina vs eager "
               "torch, as issue 16 asks)")


def setup(torch):
    state = mlp_seed_step.setup(torch)

    def step_fn():
        mlp_seed_step.step(state)

    if torch.__name__ == "lamina":
        step_fn = torch.compile(step_fn)
    return step_fn


def step(state):
    state()


floor_setup = mlp_seed_step.floor_setup
floor_step = mlp_seed_step.floor_step
