"""DistributedDataParallel: one model replica per rank, gradients averaged over the ranks.

How it works (torch's Reducer, on MPI):

* At construction every rank checks that the model has the same parameters (count, shapes,
  dtypes) as rank 0's, then rank 0's parameters and buffers are broadcast to every rank.
* The parameters that require grad are split into buckets of at most ``bucket_cap_mb``, in
  reverse registration order (the order in which backward usually produces their gradients).
  Each parameter gets a post-accumulate-grad hook; when the last gradient of a bucket has
  arrived, its non-blocking all-reduce (``MPI_Iallreduce``) starts while backward goes on with
  the rest of the graph. Buckets are started in index order on every rank (MPI requires the
  same order of collectives everywhere). At the end of backward (an autograd engine callback)
  every all-reduce is waited for and each ``.grad`` receives the average over the ranks.
* Tied (shared) parameters are one leaf and so one bucket entry: reduced once.
* ``no_sync()`` skips the reduction: gradients accumulate locally; the first synchronized
  backward afterwards reduces the accumulated ``.grad`` (as torch).
* ``find_unused_parameters=True``: a parameter that got no gradient on this rank contributes
  zeros; a parameter that got none on any rank keeps its ``.grad`` (``None`` stays ``None``).
  Without it, a parameter without gradient raises a ``RuntimeError`` naming it.
* ``broadcast_buffers=True``: rank 0's buffers are broadcast at the start of every forward.
* Lazy modules: parameters that are still uninitialized at construction are set up at the
  first forward: a dry forward (``nn.utils.materialize``: ``no_grad``, eval mode) of that first
  batch materializes them, rank 0's values are broadcast, and then the real forward runs.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..module import Module

__all__ = ["DistributedDataParallel"]

_UNUSED_MSG = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by "
    "making sure all `forward` function outputs participate in calculating loss. "
    "Parameters which did not receive grad for rank {rank}: {names}")


class _Bucket:
    __slots__ = ("idx", "offsets", "flat", "pending", "req")

    def __init__(self, idx, sizes, dtype):
        self.idx = idx  # indices into DDP._params
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.flat = np.zeros(int(self.offsets[-1]), dtype)
        self.pending = len(idx)
        self.req = None


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of a process group (see the module docstring).

    Args:
        module: the model to replicate.
        device_ids, output_device, dim: accepted for torch compatibility (one device per rank).
        broadcast_buffers: broadcast rank 0's buffers at the start of every forward.
        init_sync: broadcast rank 0's parameters and buffers at construction.
        process_group: the group to reduce over (default: the default group).
        bucket_cap_mb: bucket size in MiB (default 25, torch's).
        find_unused_parameters: allow parameters that get no gradient in a backward.
        gradient_as_bucket_view, static_graph, check_reduction: accepted; no effect.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        from ...distributed import distributed_c10d as c10d

        pg = c10d._group(process_group)
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.process_group = pg
        self.dim = dim
        self.device_ids = device_ids
        self.output_device = output_device
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(self.bucket_cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._comm = pg._comm.Dup()  # DDP's own traffic never interleaves with the user's
        self._timeout = pg._timeout
        self._buckets = None
        self._init_sync = init_sync
        if not self._has_lazy():
            self._setup()

    # ------------------------------------------------------------------ setup

    def _has_lazy(self):
        from ..parameter import is_lazy

        return any(is_lazy(p) for p in self.module.parameters()) or \
            any(is_lazy(b) for b in self.module.buffers())

    def _setup(self):
        named = [(n, p) for n, p in self.module.named_parameters() if p.requires_grad]
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        sig = [(tuple(p.shape), str(p._data.dtype)) for p in self._params]
        every = self._comm.allgather(sig)
        for r, s in enumerate(every):
            if s != every[0]:
                raise RuntimeError(
                    f"DistributedDataParallel: the model differs across ranks: rank {r} has "
                    f"{len(s)} parameters {s[:4]}..., rank 0 has {len(every[0])} "
                    f"{every[0][:4]}...; every rank must build the same model")
        if self._init_sync:
            self._bcast(list(self.module.parameters()) + list(self.module.buffers()))
        # buckets: reverse registration order, one dtype per bucket, at most bucket_bytes_cap
        self._buckets = []
        cur, cur_bytes, cur_dt = [], 0, None
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            nb = p._data.nbytes
            if cur and (p._data.dtype != cur_dt or cur_bytes + nb > self.bucket_bytes_cap):
                self._buckets.append(cur)
                cur, cur_bytes = [], 0
            cur.append(i)
            cur_bytes += nb
            cur_dt = p._data.dtype
        if cur:
            self._buckets.append(cur)
        self._buckets = [_Bucket(b, [self._params[i]._data.size for i in b],
                                 self._params[b[0]]._data.dtype) for b in self._buckets]
        self._where = {}
        for k, b in enumerate(self._buckets):
            for j, i in enumerate(b.idx):
                self._where[i] = (k, j)
        self._ready = [False] * len(self._params)
        self._next = 0
        self._queued = False
        self._sync_now = False
        self._hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                       for i, p in enumerate(self._params)]

    def _bcast(self, tensors):
        """Broadcast rank 0's ``tensors`` (one flat message per dtype), in place."""
        from ...distributed.distributed_c10d import _wait_all

        by = {}
        for t in tensors:
            by.setdefault(t._data.dtype, []).append(t)
        for dt, ts in by.items():
            flat = np.concatenate([np.asarray(t._data).ravel() for t in ts])
            view = flat.view(np.uint8) if dt.kind == "b" or dt == np.float16 else flat
            _wait_all([self._comm.Ibcast(view, root=0)], self._timeout, "DDP broadcast",
                      self.process_group)
            o = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[o:o + n].reshape(t._data.shape)
                o += n

    # ------------------------------------------------------------------ forward

    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled

        if self._buckets is None:  # lazy modules: materialize on this batch, then sync
            from ..utils.materialize import materialize

            if kwargs:
                from ...autograd.grad_mode import no_grad

                with no_grad():
                    self.module(*inputs, **kwargs)
            else:
                materialize(self.module, *inputs)
            self._setup()
        if self._queued:
            raise RuntimeError(_UNUSED_MSG.format(rank=self.process_group.rank(),
                                                  names=self._missing()))
        if self.broadcast_buffers and self.require_forward_param_sync:
            bufs = list(self.module.buffers())
            if bufs and self.process_group.size() > 1:
                self._bcast(bufs)
        self._sync_now = self.require_backward_grad_sync and is_grad_enabled()
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Inside: backward accumulates gradients locally, no communication."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward side

    def _make_hook(self, i):
        def hook(p):
            if not self._sync_now:
                return
            if self._ready[i]:
                raise RuntimeError(
                    f"Expected to mark a variable ready only once. Parameter "
                    f"'{self._names[i]}' got its gradient twice in one synchronized backward "
                    f"(call backward once per forward, or use no_sync())")
            if not self._queued:
                from ...autograd.engine import queue_callback

                queue_callback(self._finalize)
                self._queued = True
            self._ready[i] = True
            k, j = self._where[i]
            b = self._buckets[k]
            b.flat[b.offsets[j]:b.offsets[j + 1]] = p._grad._data.ravel()
            b.pending -= 1
            if b.pending == 0:
                self._launch()
            elif self._next:  # let MPI progress the started all-reduces (no progress thread)
                self._poke()
        return hook

    def _poke(self):
        from mpi4py import MPI

        MPI.Request.Testall([b.req for b in self._buckets[:self._next]])

    def _launch(self):
        from mpi4py import MPI

        bs = self._buckets
        while self._next < len(bs) and bs[self._next].pending == 0:
            b = bs[self._next]
            b.req = self._comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)
            self._next += 1

    def _missing(self):
        return [self._names[i] for i, r in enumerate(self._ready) if not r]

    def _finalize(self):
        from ..._tensor import _make
        from ...distributed.distributed_c10d import _wait_all

        used = None
        missing = self._missing()
        try:
            if missing:
                if not self.find_unused_parameters:
                    raise RuntimeError(_UNUSED_MSG.format(rank=self.process_group.rank(),
                                                          names=missing))
                for i, r in enumerate(self._ready):
                    if not r:
                        k, j = self._where[i]
                        b = self._buckets[k]
                        g = self._params[i]._grad
                        b.flat[b.offsets[j]:b.offsets[j + 1]] = 0 if g is None else \
                            g._data.ravel()
                        b.pending -= 1
                self._launch()
            if self.find_unused_parameters:
                from mpi4py import MPI

                used = np.array(self._ready, np.uint8)
                _wait_all([self._comm.Iallreduce(MPI.IN_PLACE, used, op=MPI.MAX)],
                          self._timeout, "DDP unused-parameter check", self.process_group)
            _wait_all([b.req for b in self._buckets], self._timeout, "DDP gradient all_reduce",
                      self.process_group)
            n = self.process_group.size()
            for b in self._buckets:
                for j, i in enumerate(b.idx):
                    if used is not None and not used[i]:
                        continue
                    p = self._params[i]
                    g = b.flat[b.offsets[j]:b.offsets[j + 1]].reshape(p._data.shape)
                    if p._grad is None:
                        p._grad = _make(g / n, p._device)
                    else:  # the average, written straight into .grad (one pass)
                        np.divide(g, n, out=p._grad._data)
        finally:
            self._ready = [False] * len(self._params)
            self._next = 0
            self._queued = False
            self._sync_now = False
            for b in self._buckets:
                b.pending = len(b.idx)
                b.req = None
