"""The ~268 MB state_dict and temp-file handling shared by the save/load workloads."""

from __future__ import annotations

import os
import shutil
import tempfile

LAYERS = 16
WIDTH = 2048


def make_state_dict(torch):
    """state_dict of Sequential(16 x Linear(2048, 2048)): 32 float32 tensors, ~268 MB."""
    nn = torch.nn
    return nn.Sequential(*[nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]).state_dict()


def state_dict_nbytes(sd) -> int:
    """Payload bytes of a float32 state_dict (numel() * 4: every entry is float32 here)."""
    return sum(t.numel() for t in sd.values()) * 4


def make_tmp_path() -> tuple[str, str]:
    """A fresh temp directory (honours TMPDIR, which the runner points at a per-worker dir)."""
    tmpdir = tempfile.mkdtemp(prefix="lamina-bench-")
    return tmpdir, os.path.join(tmpdir, "state_dict.pt")


def remove_tmp(tmpdir: str) -> None:
    """Delete the temp directory and everything in it (the 268 MB checkpoint)."""
    shutil.rmtree(tmpdir, ignore_errors=True)
