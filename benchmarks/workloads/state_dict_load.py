"""Checkpoint reading: torch.load(weights_only=True) of a ~268 MB state_dict."""

from __future__ import annotations

from benchmarks.workloads._big_state import (
    make_state_dict,
    make_tmp_path,
    remove_tmp,
    state_dict_nbytes,
)

TARGET = 1.0
ISSUE = 7
DESCRIPTION = (
    "torch.load(path, weights_only=True) of a ~268 MB state_dict (16 x Linear(2048,2048)) "
    "that the same library saved"
)
KIND = "throughput"


def setup(torch):
    tmpdir, path = make_tmp_path()
    try:
        sd = make_state_dict(torch)
        size = state_dict_nbytes(sd)
        torch.save(sd, path)
        del sd  # only the file is needed; keep peak memory at one copy being loaded
    except BaseException:
        remove_tmp(tmpdir)
        raise
    return {"torch": torch, "path": path, "tmpdir": tmpdir, "nbytes": size}


def nbytes(state) -> int:
    return state["nbytes"]


def step(state):
    state["torch"].load(state["path"], weights_only=True)


def teardown(state):
    remove_tmp(state["tmpdir"])
