"""Fit all-reduce time = latency + bytes / bandwidth to distributed_scaling.py's JSON and
project data-parallel efficiency to 8-64 ranks over 10 and 100 Gb/s (docs/distributed.md).

    python benchmarks/distributed_model.py out.json
"""

from __future__ import annotations

import json
import sys

import numpy as np

# network assumptions for the projection: per-message latency of a ring step and link speed
NETS = {"10 Gb/s Ethernet (TCP)": (25e-6, 10e9 / 8), "100 Gb/s (RDMA)": (5e-6, 100e9 / 8)}
MODELS = {  # gradient bytes (float32 parameters), compute-only step time key in the JSON
    "mlp_784 (269,322 params, batch 128/rank)": (269_322 * 4, "mlp_1", "step_min_s", 1),
    "digits CNN (19,674 params, batch 64/rank)": (19_674 * 4, "digits_1", "epoch_min_s", 23),
}


def fit(rows, key):
    b = np.array([r["bytes"] for r in rows], float)
    t = np.array([r[key] for r in rows], float)
    keep = b <= 1 << 20  # larger messages were disturbed by other processes on this machine
    A = np.stack([np.ones(keep.sum()), b[keep]], 1)
    (lat, inv_bw), *_ = np.linalg.lstsq(A, t[keep], rcond=None)
    return lat, 1 / inv_bw


def ring(n, size, lat, bw):
    return 2 * (n - 1) * lat + 2 * (n - 1) / n * size / bw


def main(path):
    res = json.load(open(path))
    rows = res["allreduce"]["rows"]
    print("| bytes | Iallreduce (DDP path) median / min | dist.all_reduce median / min |")
    print("|---:|---:|---:|")
    for r in rows:
        print(f"| {r['bytes']:,} | {r['iallreduce_s'] * 1e6:.1f} / "
              f"{r['iallreduce_min_s'] * 1e6:.1f} us | {r['all_reduce_s'] * 1e6:.1f} / {r['all_reduce_min_s'] * 1e6:.1f} us |")
    lat, bw = fit(rows, "iallreduce_min_s")
    lat2, bw2 = fit(rows, "all_reduce_min_s")
    print(f"\nfit (2 ranks, shared memory, min of reps, <= 1 MiB): Iallreduce latency "
          f"{lat * 1e6:.1f} us + bytes / {bw / 1e9:.2f} GB/s; dist.all_reduce latency "
          f"{lat2 * 1e6:.1f} us + bytes / {bw2 / 1e9:.2f} GB/s")
    print("\n| model | network | bucket | " + " | ".join(f"{n} ranks" for n in (8, 16, 32, 64))
          + " |")
    print("|---|---|---|" + "---:|" * 4)
    for name, (size, key, field, steps) in MODELS.items():
        tc = res[key][field] / steps
        for net, (a, b) in NETS.items():
            # bucket: big enough that per-bucket latency is <= 10 % of its transfer at 64 ranks
            best = 10 * 64 * a * b
            bucket = min(size, best)
            k = int(np.ceil(size / bucket))
            effs = []
            for n in (8, 16, 32, 64):
                tar = k * 2 * (n - 1) * a + 2 * (n - 1) / n * size / b
                effs.append(f"{100 * tc / (tc + tar):.0f} %")
            print(f"| {name}, compute {tc * 1e3:.1f} ms/step | {net} | {bucket / 1e6:.2f} MB "
                  f"(1 of {k}; cap {best / 1e6:.0f} MB) | " + " | ".join(effs) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
