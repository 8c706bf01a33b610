"""DistributedDataParallel on 2 and 4 MPI ranks: equal to one process on the whole batch."""

from __future__ import annotations

import pytest

from tests.distributed.mpi_helpers import check_ranks

pytest.importorskip("mpi4py")

DDP = r'''
import numpy as np
import lamina as torch
import lamina.distributed as dist
from lamina import nn
from lamina.autograd import engine
from lamina.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
B = 4

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 16)
        self.b = nn.Linear(16, 16)
        self.c = nn.Linear(16, 3)
        self.unused = nn.Linear(2, 2)
    def forward(self, x):
        h = torch.tanh(self.a(x))
        h = torch.tanh(self.b(h))
        h = torch.tanh(self.b(h))       # tied: b used twice
        return self.c(h)

def build(seed):
    torch.manual_seed(seed)
    return Net()

g = torch.Generator().manual_seed(123)
X = torch.randn(5, n * B, 6, generator=g)
Y = torch.randn(5, n * B, 3, generator=g)

def close(a, b, what):
    assert np.allclose(a, b, rtol=1e-4, atol=1e-6), (what, np.abs(a - b).max())

# 1. k steps of SGD+momentum on n ranks == one process on the concatenated batch
ref = build(0)
ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
for k in range(5):
    ref_opt.zero_grad()
    nn.functional.mse_loss(ref(X[k]), Y[k]).backward()
    ref_opt.step()

m = build(r + 10)                        # different init on each rank: DDP broadcasts rank 0's
launched = []
ddp = DDP(m, bucket_cap_mb=0.0015, find_unused_parameters=True)
orig = ddp._launch
def spy():
    before = ddp._next
    orig()
    launched.append((ddp._next - before, len(engine._callbacks)))
ddp._launch = spy
assert len(ddp._buckets) >= 2, len(ddp._buckets)
m0 = build(10)
for p, q in zip(m.parameters(), m0.parameters()):
    close(p.detach().numpy(), q.detach().numpy(), "broadcast at construction")
opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
mine = slice(r * B, (r + 1) * B)
ref = build(10)
ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
for k in range(5):
    ref_opt.zero_grad()
    nn.functional.mse_loss(ref(X[k]), Y[k]).backward()
    ref_opt.step()
    opt.zero_grad()
    nn.functional.mse_loss(ddp(X[k][mine]), Y[k][mine]).backward()
    opt.step()
for (name, p), q in zip(m.named_parameters(), ref.parameters()):
    close(p.detach().numpy(), q.detach().numpy(), name)
assert m.unused.weight.grad is None          # unused on every rank: stays None
# buckets were started from the hooks while backward was still running
assert launched and all(depth == 1 for _, depth in launched), launched
assert sum(c for c, _ in launched) == 5 * len(ddp._buckets)
assert list(ddp.state_dict())[:2] == ["module.a.weight", "module.a.bias"]
assert ddp.module is m

# 2. no_sync: two local micro-batches, then a synchronized one == one process on all of it
m = build(3)
ddp = DDP(m, find_unused_parameters=True)
ref = build(3)
for p in ref.parameters():
    p.grad = None
for k in range(3):
    nn.functional.mse_loss(ref(X[k]), Y[k]).backward()
for k in range(3):
    if k < 2:
        with ddp.no_sync():
            nn.functional.mse_loss(ddp(X[k][mine]), Y[k][mine]).backward()
        if k == 1:   # still local: differs between ranks
            every = [None] * n
            dist.all_gather_object(every, m.a.weight.grad.numpy().copy())
            assert any(not np.allclose(every[0], e) for e in every[1:])
    else:
        nn.functional.mse_loss(ddp(X[k][mine]), Y[k][mine]).backward()
for (name, p), q in zip(m.named_parameters(), ref.parameters()):
    if q.grad is not None:
        close(p.grad.numpy(), q.grad.numpy(), "no_sync " + name)

# 3. a parameter used on some ranks only (find_unused_parameters) gets the average
m = build(4)
ddp = DDP(m, find_unused_parameters=True)
out = ddp(X[0][mine])
loss = out.sum()
if r == 0:
    loss = loss + m.unused(torch.ones(1, 2)).sum()
loss.backward()
assert np.allclose(m.unused.bias.grad.numpy(), 1.0 / n), m.unused.bias.grad

# without find_unused_parameters a parameter without gradient is named
m = build(4)
ddp = DDP(m)
try:
    ddp(X[0][mine]).sum().backward()
    raise AssertionError("no error")
except RuntimeError as e:
    assert "Expected to have finished reduction" in str(e) and "unused.weight" in str(e), e

# 4. lazy modules: materialized on the first batch, then rank 0's values everywhere
torch.manual_seed(r)
lazy = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
ddp = DDP(lazy)
ddp(X[0][mine]).sum().backward()
for name, p in lazy.named_parameters():
    every = [None] * n
    dist.all_gather_object(every, p.detach().numpy())
    assert all(np.array_equal(every[0], e) for e in every), name
    every = [None] * n
    dist.all_gather_object(every, p.grad.numpy())
    assert all(np.allclose(every[0], e) for e in every), name

# 5. broadcast_buffers: BatchNorm's running stats follow rank 0 at every forward
torch.manual_seed(0)
bn = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
ddp = DDP(bn)
ddp(X[0][mine])
ddp(X[1][mine])
every = [None] * n
dist.all_gather_object(every, bn[1].running_mean.numpy())
# before the 2nd forward rank 0's stats were broadcast; each rank then updated with its batch
assert not all(np.array_equal(every[0], e) for e in every)
ddp.eval()
with torch.no_grad():
    ddp(X[2][mine])
dist.all_gather_object(every, bn[1].running_mean.numpy())
assert all(np.array_equal(every[0], e) for e in every)
print(f"rank {r}: ddp ok")
'''


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_equals_one_process(tmp_path, n):
    out = check_ranks(tmp_path, DDP, n, timeout=120)
    assert out.count("ddp ok") == n


def test_ddp_before_init_is_a_named_error():
    from lamina import nn

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
