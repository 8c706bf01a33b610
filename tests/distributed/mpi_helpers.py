"""Run a script on N MPI ranks from a test (mpiexec next to sys.executable, else PATH's)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_ranks(tmp_path, source: str, n: int, timeout: float = 60, args=(), launcher=False):
    """Run ``source`` on ``n`` ranks; returns (returncode, stdout, stderr)."""
    pytest.importorskip("mpi4py")
    from lamina.distributed.run import find_mpiexec

    script = tmp_path / f"rank_script_{n}.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    # unbuffered ranks write each piece of a print() separately, so the lines of two ranks
    # can interleave character by character in mpiexec's merged stdout; buffered, each rank's
    # lines reach the pipe whole
    for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PYTHONUNBUFFERED"):
        env.pop(v, None)
    if launcher:
        cmd = [sys.executable, "-m", "lamina.distributed.run", "--nproc-per-node", str(n),
               str(script), *args]
    else:
        cmd = [find_mpiexec(), "-n", str(n), sys.executable, str(script), *args]
    p = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check_ranks(tmp_path, source, n, **kw):
    rc, out, err = run_ranks(tmp_path, source, n, **kw)
    assert rc == 0, f"{n} ranks failed (rc={rc}):\n{out}\n{err}"
    return out
