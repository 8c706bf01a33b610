"""Checkpoint writing: torch.save of a ~268 MB state_dict to a temp file."""

from __future__ import annotations

from benchmarks.workloads._big_state import (
    make_state_dict,
    make_tmp_path,
    remove_tmp,
    state_dict_nbytes,
)

TARGET = 1.0
ISSUE = 7
DESCRIPTION = "torch.save(state_dict of 16 x Linear(2048,2048), ~268 MB) to a temp file"
KIND = "throughput"


def setup(torch):
    sd = make_state_dict(torch)
    tmpdir, path = make_tmp_path()
    return {"torch": torch, "sd": sd, "tmpdir": tmpdir, "path": path}


def nbytes(state) -> int:
    return state_dict_nbytes(state["sd"])


def step(state):
    # Overwrites the same file every call, so the disk holds one checkpoint at most.
    state["torch"].save(state["sd"], state["path"])


def teardown(state):
    remove_tmp(state["tmpdir"])
