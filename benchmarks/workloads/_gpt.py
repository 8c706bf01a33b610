"""The GPT of lamina/examples/gpt.py, built on whichever library the worker passes as ``torch``.

The example's source is executed with its three imports pointed at that library, so both sides
run the very same model code (the file is read, not imported: importing it would load lamina
into a torch worker).
"""

from __future__ import annotations

import os
import sys
import types

_SRC = os.path.join(os.path.dirname(__file__), "..", "..", "lamina", "examples", "gpt.py")


def gpt_module(torch):
    name = f"_bench_gpt_{torch.__name__}"
    if name in sys.modules:
        return sys.modules[name]
    with open(_SRC) as f:
        src = f.read()
    for line in ("import lamina as torch", "import lamina.nn as nn",
                 "from lamina.nn import functional as F"):
        src = src.replace(line, "")
    mod = types.ModuleType(name)
    mod.torch, mod.nn, mod.F = torch, torch.nn, torch.nn.functional
    sys.modules[name] = mod
    exec(compile(src, _SRC, "exec"), mod.__dict__)
    return mod


def make_gpt(torch, **config):
    """(module, model) for a GPTConfig(**config), seeded."""
    mod = gpt_module(torch)
    torch.manual_seed(0)
    return mod, mod.GPT(mod.GPTConfig(**config))
