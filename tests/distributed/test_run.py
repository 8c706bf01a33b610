"""lamina.distributed.run: the mpiexec command line and the launcher's argument errors.

Launching real ranks is tested in tests/distributed/test_distributed_c10d.py (through
tests/distributed/mpi_helpers.py).
"""

from __future__ import annotations

import sys

import pytest

from lamina.distributed import run


@pytest.fixture
def fake_mpiexec(monkeypatch):
    monkeypatch.setattr(run, "find_mpiexec", lambda: "/x/mpiexec")


def test_one_mpmd_block_per_rank(fake_mpiexec, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cmd, env = run.command(3, ["train.py", "--lr", "1"], master_port=1234)
    assert cmd[0] == "/x/mpiexec"
    blocks = " ".join(cmd[1:]).split(" : ")
    assert len(blocks) == 3
    for r, b in enumerate(blocks):
        assert b.split() == ["-n", "1", "-env", "RANK", str(r), "-env", "LOCAL_RANK", str(r),
                             "-env", "ROLE_RANK", str(r), sys.executable, "train.py", "--lr",
                             "1"]
    assert env["WORLD_SIZE"] == "3" and env["MASTER_PORT"] == "1234"
    assert env["OMP_NUM_THREADS"] == "1"


def test_module_and_no_python_forms(fake_mpiexec):
    cmd, _ = run.command(1, ["pkg.mod"], module=True)
    assert cmd[-3:] == [sys.executable, "-m", "pkg.mod"]
    cmd, _ = run.command(1, ["./prog", "a"], no_python=True)
    assert cmd[-2:] == ["./prog", "a"]


@pytest.mark.parametrize("args,msg", [
    (["--nproc-per-node", "two", "s.py"], "must be an integer"),
    (["--nproc-per-node", "0", "s.py"], "must be >= 1"),
    (["--nnodes", "2", "s.py"], "one node only"),
])
def test_bad_arguments_exit_2_with_a_message(fake_mpiexec, capsys, args, msg):
    assert run.main(args) == 2
    assert msg in capsys.readouterr().err
