"""Data-parallel scaling of lamina on MPI (see docs/distributed.md). Not part of run.py.

    python benchmarks/distributed_scaling.py            # runs every measurement below
    python benchmarks/distributed_scaling.py --json out.json

Each measurement runs as ``python -m lamina.distributed.run --nproc-per-node N
benchmarks/distributed_scaling.py --worker KIND`` (one BLAS thread per rank, set by the
launcher for the children only) and rank 0 prints one JSON line:

* ``allreduce``: median time of one in-place all-reduce of float32 messages from 4 B to 16 MiB,
  through DDP's path (one ``MPI_Iallreduce`` + wait) and through ``dist.all_reduce`` (which adds
  the header exchange that catches mismatched calls).
* ``mlp``: the 784-256-256-10 MLP step of benchmarks/workloads/mlp_784_step.py (batch 128 per
  rank: weak scaling), plain or wrapped in DDP: samples/s over all ranks.
* ``digits``: one epoch of the digits CNN (benchmarks/workloads/digits_epoch.py) with a
  DistributedSampler and batch 64/N per rank (the same global work: strong scaling).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def worker_allreduce():
    import numpy as np
    from mpi4py import MPI

    import lamina as torch
    import lamina.distributed as dist

    dist.init_process_group()
    comm = dist.group.WORLD._comm
    rows = []
    for k in range(0, 23, 2):
        n = 1 << k  # float32 elements: 4 B .. 16 MiB
        a = np.ones(n, np.float32)
        t = torch.ones(n)
        reps = max(5, min(300, int(2e7 / (4 * n + 2e4))))
        raw, full = [], []
        for _ in range(reps):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Iallreduce(MPI.IN_PLACE, a, op=MPI.SUM).Wait()
            raw.append(time.perf_counter() - t0)
            comm.Barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            full.append(time.perf_counter() - t0)
        rows.append({"bytes": 4 * n, "iallreduce_s": _median(raw), "all_reduce_s": _median(full),
                     "iallreduce_min_s": min(raw), "all_reduce_min_s": min(full)})
    return {"world": dist.get_world_size(), "rows": rows}


def _mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def worker_mlp(use_ddp: bool):
    import lamina as torch
    import lamina.distributed as dist

    dist.init_process_group()
    torch.manual_seed(0)
    net = _mlp(torch)
    model = torch.nn.parallel.DistributedDataParallel(net) if use_ddp else net
    X = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    for _ in range(10):
        step()
    samples = []
    for _ in range(7):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(20):
            step()
        dist.barrier()
        samples.append((time.perf_counter() - t0) / 20)
    n = dist.get_world_size()
    s = _median(samples)
    return {"world": n, "ddp": use_ddp, "step_s": s, "samples_per_s": n * 128 / s,
            "step_min_s": min(samples), "samples_per_s_best": n * 128 / min(samples),
            "buckets": len(model._buckets) if use_ddp else 0}


def worker_digits():
    sys.path.insert(0, ROOT)
    import lamina as torch
    import lamina.distributed as dist
    from benchmarks.workloads.digits_epoch import build_model, load_train
    from lamina.utils.data.distributed import DistributedSampler

    dist.init_process_group()
    n = dist.get_world_size()
    data = torch.utils.data
    torch.manual_seed(0)
    images, train, _ = load_train(torch)
    sampler = DistributedSampler(train, seed=0)
    loader = data.DataLoader(train, batch_size=64 // n, sampler=sampler)
    net = build_model(torch)
    net(images[:2])
    model = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for epoch in range(4):
        sampler.set_epoch(epoch)
        dist.barrier()
        t0 = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        dist.barrier()
        times.append(time.perf_counter() - t0)
    s = _median(times[1:])
    return {"world": n, "epoch_s": s, "samples_per_s": len(train) / s,
            "epoch_min_s": min(times[1:]), "samples_per_s_best": len(train) / min(times[1:])}


def _launch(n, kind):
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "-m", "lamina.distributed.run", "--nproc-per-node",
                        str(n), os.path.abspath(__file__), "--worker", kind], env=env,
                       capture_output=True, text=True, timeout=900)
    if p.returncode:
        raise RuntimeError(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv):
    if argv[:1] == ["--worker"]:
        kind = argv[1]
        out = {"allreduce": worker_allreduce, "mlp": lambda: worker_mlp(False),
               "mlp_ddp": lambda: worker_mlp(True), "digits": worker_digits}[kind]()
        import lamina.distributed as dist

        if dist.get_rank() == 0:
            print(json.dumps(out))
        return 0
    res = {"allreduce": _launch(2, "allreduce")}
    for kind in ("mlp", "mlp_ddp", "digits"):
        for n in (1, 2):
            res[f"{kind}_{n}"] = _launch(n, kind)
            print(kind, n, res[f"{kind}_{n}"], file=sys.stderr)
    print(json.dumps(res, indent=1))
    if argv[:1] == ["--json"]:
        with open(argv[1], "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
