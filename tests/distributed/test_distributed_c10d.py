"""Collectives on 2 and 4 MPI ranks against NumPy references; errors; the launcher."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.distributed.mpi_helpers import check_ranks, run_ranks

pytest.importorskip("mpi4py")

COLLECTIVES = r'''
import numpy as np
import lamina as torch
import lamina.distributed as dist

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"

def data(k, shape, dt, seed=0):
    rng = np.random.default_rng(100 * seed + k)
    if dt == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if np.dtype(dt).kind in "iu":
        return np.asarray(rng.integers(1, 4, shape).astype(dt))
    return np.asarray((rng.random(shape) * 2 + 0.5).astype(dt))

def close(got, want, dt):
    tol = {"float16": 1e-2, "float32": 1e-5}.get(dt, 1e-12)
    if np.dtype(want.dtype).kind == "f":
        assert np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol), (got, want)
    else:
        assert np.array_equal(got, want), (got, want)
    assert got.dtype == want.dtype

REF = {"SUM": lambda a: a.sum(0), "PRODUCT": lambda a: a.prod(0), "MIN": lambda a: a.min(0),
       "MAX": lambda a: a.max(0), "AVG": lambda a: a.mean(0)}
DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "int8", "int16", "bool"]
SHAPES = [(), (5,), (3, 4), (2, 1, 3)]
count = 0
for dt in DTYPES:
    for shape in SHAPES:
        every = np.stack([data(k, shape, dt) for k in range(n)])
        # all_reduce / reduce for every op that applies
        for name in ["SUM", "PRODUCT", "MIN", "MAX", "AVG"]:
            if name == "AVG" and dt not in ("float16", "float32", "float64"):
                continue
            if dt == "bool":
                want = {"SUM": every.any(0), "MAX": every.any(0), "PRODUCT": every.all(0),
                        "MIN": every.all(0)}[name]
            else:
                want = REF[name](every.astype(np.float64) if dt == "float16" else every)
                want = np.asarray(want).astype(dt)
            t = torch.from_numpy(data(r, shape, dt))
            dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
            close(t.numpy(), want, dt)
            t = torch.from_numpy(data(r, shape, dt))
            w = dist.reduce(t, dst=n - 1, op=getattr(dist.ReduceOp, name), async_op=True)
            w.wait()
            assert w.is_completed()
            if r == n - 1:
                close(t.numpy(), want, dt)
            else:
                close(t.numpy(), data(r, shape, dt), dt)
            count += 2
        # broadcast from the last rank
        t = torch.from_numpy(data(r, shape, dt))
        dist.broadcast(t, src=n - 1)
        close(t.numpy(), every[n - 1], dt)
        # all_gather, gather, scatter
        lst = [torch.from_numpy(np.zeros(shape, dt)) for _ in range(n)]
        dist.all_gather(lst, torch.from_numpy(data(r, shape, dt)))
        for k in range(n):
            close(lst[k].numpy(), every[k], dt)
        gl = [torch.from_numpy(np.zeros(shape, dt)) for _ in range(n)] if r == 1 else None
        dist.gather(torch.from_numpy(data(r, shape, dt)), gl, dst=1)
        if r == 1:
            for k in range(n):
                close(gl[k].numpy(), every[k], dt)
        t = torch.from_numpy(np.zeros(shape, dt))
        sl = [torch.from_numpy(data(k, shape, dt, seed=7)) for k in range(n)] if r == 0 else None
        dist.scatter(t, sl, src=0)
        close(t.numpy(), data(r, shape, dt, seed=7), dt)
        count += 4
    # into-tensor variants (dim 0 concatenation and stacking)
    x = data(r, (2, 3), dt)
    out = torch.from_numpy(np.zeros((2 * n, 3), dt))
    dist.all_gather_into_tensor(out, torch.from_numpy(x))
    close(out.numpy(), np.concatenate([data(k, (2, 3), dt) for k in range(n)]), dt)
    out = torch.from_numpy(np.zeros((n, 2, 3), dt))
    dist.all_gather_into_tensor(out, torch.from_numpy(x))
    close(out.numpy(), np.stack([data(k, (2, 3), dt) for k in range(n)]), dt)
    if dt != "bool":
        big = np.stack([data(k, (n * 2, 3), dt) for k in range(n)])
        o = torch.from_numpy(np.zeros((2, 3), dt))
        dist.reduce_scatter_tensor(o, torch.from_numpy(data(r, (n * 2, 3), dt)))
        want = big.astype(np.float64).sum(0) if dt == "float16" else big.sum(0)
        close(o.numpy(), want[2 * r:2 * r + 2].astype(dt), dt)
    count += 3

# a non-contiguous tensor is reduced in place through a copy
base = torch.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4) + r)
v = base.t()
dist.all_reduce(v)
assert np.array_equal(base.numpy(), (np.arange(12, dtype=np.float32).reshape(3, 4) * n
                                     + sum(range(n)))), base

# point to point: a ring, blocking and non-blocking
t = torch.full((3,), float(r))
got = torch.zeros(3)
s = dist.isend(t, dst=(r + 1) % n, tag=3)
rq = dist.irecv(got, src=(r - 1) % n, tag=3)
s.wait(); rq.wait()
assert got.tolist() == [float((r - 1) % n)] * 3
if r == 0:
    for k in range(1, n):
        dist.send(torch.tensor([k, 10 * k], dtype=torch.int64), dst=k)
else:
    x = torch.zeros(2, dtype=torch.int64)
    assert dist.recv(x, src=0) == 0 and x.tolist() == [r, 10 * r]
# objects
objs = [{"rank": r}, "x"] if r == 0 else [None, None]
dist.broadcast_object_list(objs, src=0)
assert objs == [{"rank": 0}, "x"]
every = [None] * n
dist.all_gather_object(every, ("r", r))
assert every == [("r", k) for k in range(n)]
# groups: even ranks
g = dist.new_group([k for k in range(n) if k % 2 == 0])
if r % 2 == 0:
    t = torch.ones(2)
    dist.all_reduce(t, group=g)
    assert t.tolist() == [float(len(range(0, n, 2)))] * 2
    assert dist.get_rank(g) == r // 2 and dist.get_world_size(g) == (n + 1) // 2
else:
    assert g == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
w = dist.barrier(async_op=True)
w.wait()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {r}: {count} collective checks ok")
'''


@pytest.mark.parametrize("n", [2, 4])
def test_collectives_match_numpy(tmp_path, n):
    out = check_ranks(tmp_path, COLLECTIVES, n, timeout=120)
    assert out.count("collective checks ok") == n


def test_launcher_sets_torchrun_env(tmp_path):
    src = r'''
    import os, sys
    import lamina.distributed as dist
    dist.init_process_group()
    r = dist.get_rank()
    assert os.environ["RANK"] == str(r) and os.environ["LOCAL_RANK"] == str(r)
    assert os.environ["WORLD_SIZE"] == "2" and os.environ["OMP_NUM_THREADS"] == "1"
    # one file per rank: the ranks' stdout lines may interleave character by character
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), f"args{r}"), "w") as f:
        f.write(repr(sys.argv[1:]))
    '''
    rc, out, err = run_ranks(tmp_path, src, 2, launcher=True, args=["--lr", "0.1"])
    assert rc == 0, err
    for r in (0, 1):
        assert (tmp_path / f"args{r}").read_text() == "['--lr', '0.1']"


def test_errors_before_init_and_without_mpi(monkeypatch):
    import lamina
    import lamina.distributed as dist
    from lamina.distributed import distributed_c10d as c10d

    assert not dist.is_initialized()
    for f in (lambda: dist.all_reduce(lamina.ones(2)), dist.get_rank, dist.get_world_size,
              dist.barrier, lambda: dist.broadcast(lamina.ones(1), 0)):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            f()
    monkeypatch.setattr(c10d, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"pip install"):
        dist.init_process_group("mpi")


def test_import_does_not_start_mpi():
    code = ("import sys, lamina, lamina.distributed as d, lamina.nn.parallel; "
            "print(d.is_available(), 'mpi4py.MPI' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60).stdout
    assert out.split() == ["True", "False"]


MISMATCH = r'''
import sys
import lamina as torch
import lamina.distributed as dist
from datetime import timedelta
dist.init_process_group("mpi", timeout=timedelta(seconds=float(sys.argv[2])))
r = dist.get_rank()
case = sys.argv[1]
try:
    if case == "shape":
        dist.all_reduce(torch.ones(2 + r))
    elif case == "dtype":
        dist.all_reduce(torch.ones(2, dtype=torch.float64 if r else torch.float32))
    elif case == "op":
        if r == 0:
            dist.all_reduce(torch.ones(2))
        else:
            dist.broadcast(torch.ones(2), src=0)
    elif case == "missing":
        if r == 0:
            dist.all_reduce(torch.ones(2))
    elif case == "recv":
        if r == 0:
            dist.send(torch.ones(3), dst=1)
        else:
            dist.recv(torch.ones(4), src=0)
except RuntimeError as e:
    print(f"rank {r} error: {e}")
    sys.exit(0)
print(f"rank {r} no error")
'''


@pytest.mark.parametrize("case,expect", [
    ("shape", "mismatched collective calls across ranks: rank 0: all_reduce(dtype=torch.float32, "
              "shape=[2]); rank 1: all_reduce(dtype=torch.float32, shape=[3])"),
    ("dtype", "rank 1: all_reduce(dtype=torch.float64, shape=[2])"),
    ("op", "rank 0: all_reduce(dtype=torch.float32, shape=[2]); rank 1: "
           "broadcast(dtype=torch.float32, shape=[2], root=0)"),
])
def test_mismatched_calls_give_named_errors(tmp_path, case, expect):
    out = check_ranks(tmp_path, MISMATCH, 2, args=[case, "30"])
    assert out.count(expect) == 2, out


def test_collective_on_one_rank_times_out(tmp_path):
    out = check_ranks(tmp_path, MISMATCH, 2, args=["missing", "2"])
    assert "rank 0 error: lamina.distributed: all_reduce (header) timed out after 2 s" in out
    assert "not every rank joined it" in out and "rank 1 no error" in out


def test_recv_into_wrong_shape(tmp_path):
    out = check_ranks(tmp_path, MISMATCH, 2, args=["recv", "30"])
    assert ("rank 1 error: lamina.distributed: recv got a tensor of shape [3], dtype "
            "torch.float32 from rank 0; the receiving tensor has shape [4]") in out


FAULT = r'''
import os, sys, time
import lamina as torch
import lamina.distributed as dist
from datetime import timedelta
dist.init_process_group("mpi", timeout=timedelta(seconds=20))
r = dist.get_rank()
dist.all_reduce(torch.ones(2))
if r == 1:
    if sys.argv[1] == "raise":
        raise ValueError("boom on rank 1")
    os._exit(3)
dist.all_reduce(torch.ones(2))   # rank 0 waits for a rank that is gone
print("rank 0 finished: should not happen")
'''


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_a_failing_rank_stops_the_others(tmp_path, how):
    rc, out, err = run_ranks(tmp_path, FAULT, 2, args=[how], timeout=60)
    assert rc != 0
    assert "should not happen" not in out
    if how == "raise":
        assert "ValueError: boom on rank 1" in err
        assert "rank 1 failed with ValueError; aborting all ranks" in err
