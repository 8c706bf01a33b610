"""gpt_generate with the model's forward compiled on lamina (lamina.compile), eager on torch.

generate() itself is not captured: each step samples (multinomial draws from the generator)
and writes into the logits in place, both of which end a lamina capture. The model's forward
is compiled instead, so every step of the loop replays a recorded program; the context grows
from 1 to 64 tokens, so there is one program per length (recompile_limit=64).
"""

from __future__ import annotations

from benchmarks.workloads import gpt_generate

TARGET = 0.5
ISSUE = 16
DESCRIPTION = ("gpt_generate (200 tokens, batch 1, top-k 10) with model.forward = "
               "torch.compile(model.forward, recompile_limit=64) on lamina, eager on torch "
               "(compiled lamina vs eager torch, as issue 16 asks)")


def setup(torch):
    torch_, model, idx = gpt_generate.setup(torch)
    if torch.__name__ == "lamina":
        model.forward = torch.compile(model.forward, recompile_limit=64)
    return torch_, model, idx


def step(state):
    gpt_generate.step(state)


floor_setup = gpt_generate.floor_setup
floor_step = gpt_generate.floor_step
