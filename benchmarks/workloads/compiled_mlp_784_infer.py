"""mlp_784_infer with the model compiled on lamina (lamina.compile), eager on torch."""

from __future__ import annotations

from benchmarks.workloads import mlp_784_infer

TARGET = 0.2
ISSUE = 16
DESCRIPTION = ("784-256-256-10 ReLU MLP, batch 1, forward under no_grad: model = "
               "torch.compile(model) on lamina, eager on torch (compiled lamina vs eager torch, "
               "as issue 16 asks)")


def setup(torch):
    torch_, net, x = mlp_784_infer.setup(torch)
    if torch.__name__ == "lamina":
        net = torch.compile(net)
    return torch_, net, x


def step(state):
    mlp_784_infer.step(state)


floor_setup = mlp_784_infer.floor_setup
floor_step = mlp_784_infer.floor_step
