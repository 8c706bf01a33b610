"""DataLoader: batches from a dataset through a sampler and a collate function."""

from __future__ import annotations

import collections.abc as cabc
import multiprocessing
import random as _pyrandom
from dataclasses import dataclass

from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _tensor_mod():
    from ... import _creation, _tensor
    from ...ops import shape

    return _tensor.Tensor, _creation, shape


def default_convert(data):
    """Turn NumPy arrays into tensors, recursively (collation of unbatched samples)."""
    import numpy as np

    Tensor, C, _ = _tensor_mod()
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        return C.as_tensor(data)
    if isinstance(data, np.generic):
        return C.as_tensor(data)
    if isinstance(data, cabc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, cabc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _stack_samples(np, Tensor, batch):
    """``stack(batch)`` for the common case of samples read from one dataset: same device,
    shape and dtype, no gradient. On the cpu one ``np.array`` of the sample arrays (a C loop,
    several times cheaper than the general ``stack`` op for a batch of small samples);
    None when any condition fails (the general op then decides, with torch's errors)."""
    elem = batch[0]
    dev = elem._device
    a0 = elem._data
    shape, dtype = a0.shape, a0.dtype
    if dev.type != "cpu" or a0.__class__ is not np.ndarray:
        return None
    arrays = []
    for b in batch:
        if not isinstance(b, Tensor) or (b._device is not dev and b._device != dev) or b._requires_grad:
            return None
        a = b._data
        if a.shape != shape or a.dtype != dtype or a.__class__ is not np.ndarray:
            return None
        arrays.append(a)
    out = np.array(arrays, dtype=dtype)
    if out.shape != (len(arrays),) + shape:  # never expected; stay exact
        return None
    from ..._tensor import _make

    return _make(out, dev)


def default_collate(batch):
    """torch's default_collate: stack tensors and arrays, tensorize numbers, recurse into
    dicts, named tuples and sequences."""
    import numpy as np

    Tensor, C, S = _tensor_mod()
    elem = batch[0]
    if isinstance(elem, Tensor):
        out = _stack_samples(np, Tensor, batch)
        return out if out is not None else S.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found {elem.dtype}")
        return default_collate([C.as_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        return C.as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return C.tensor(batch)
    if isinstance(elem, float):
        from ... import _dtype as D

        return C.tensor(batch, dtype=D.float64)
    if isinstance(elem, int):
        return C.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, cabc.Mapping):
        try:
            return type(elem)({k: default_collate([d[k] for d in batch]) for k in elem})
        except TypeError:
            return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        it = iter(batch)
        n = len(next(it))
        if not all(len(e) == n for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(list(s)) for s in transposed]
        try:
            return type(elem)([default_collate(list(s)) for s in transposed])
        except TypeError:
            return [default_collate(list(s)) for s in transposed]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


@dataclass
class WorkerInfo:
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker process: its WorkerInfo; in the main process: None."""
    return _worker_info


_FORK_STATE: dict = {}


def _worker_start(counter, base_seed, num_workers):
    global _worker_info
    from ... import random as _random

    with counter.get_lock():
        wid = counter.value
        counter.value += 1
    seed = base_seed + wid
    _random.manual_seed(seed)
    _pyrandom.seed(seed)
    st = _FORK_STATE
    _worker_info = WorkerInfo(wid, num_workers, seed, st["dataset"])
    if st["worker_init_fn"] is not None:
        st["worker_init_fn"](wid)


def _worker_fetch(indices):
    st = _FORK_STATE
    return _fetch(st["dataset"], indices, st["collate_fn"], st["auto"])


def _fetch(dataset, index, collate_fn, auto):
    if auto:
        getitems = getattr(dataset, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [dataset[i] for i in index]
        return collate_fn(data)
    return collate_fn(dataset[index])


class DataLoader:
    """Iterate over ``dataset`` in batches (torch.utils.data.DataLoader's arguments)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
            if num_workers > 0:
                raise RuntimeError("lamina's DataLoader runs an IterableDataset in the main "
                                   "process only: use num_workers=0 (map-style datasets support "
                                   "worker processes)")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _base_seed(self):
        from ... import _creation
        from ... import _dtype as D

        return int(_creation.empty((), dtype=D.int64).random_(generator=self.generator).item())

    def __iter__(self):
        base_seed = self._base_seed()  # consumed like torch, so seeded shuffles match
        if self._iterable:
            return self._iter_iterable()
        index_iter = iter(self.batch_sampler if self._auto else self.sampler)
        if self.num_workers == 0:
            return self._iter_single(index_iter)
        return self._iter_workers(index_iter, base_seed)

    def _iter_single(self, index_iter):
        ds, fn, auto = self.dataset, self.collate_fn, self._auto
        for idx in index_iter:
            yield _fetch(ds, idx, fn, auto)

    def _iter_iterable(self):
        it = iter(self.dataset)
        if not self._auto:
            for x in it:
                yield self.collate_fn(x)
            return
        while True:
            batch = []
            for x in it:
                batch.append(x)
                if len(batch) == self.batch_size:
                    break
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)
            if len(batch) < self.batch_size:
                return

    def _iter_workers(self, index_iter, base_seed):
        ctx = self.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        if ctx.get_start_method() != "fork":
            raise RuntimeError("lamina's DataLoader workers need the 'fork' start method (Linux, "
                               "macOS with fork); use num_workers=0 on this platform")
        _FORK_STATE.update(dataset=self.dataset, collate_fn=self.collate_fn, auto=self._auto,
                           worker_init_fn=self.worker_init_fn)
        counter = ctx.Value("i", 0)
        pool = ctx.Pool(self.num_workers, initializer=_worker_start,
                        initargs=(counter, base_seed, self.num_workers))
        try:
            results = pool.imap(_worker_fetch, index_iter, chunksize=1)
            timeout = self.timeout or None
            while True:
                try:
                    yield results.next(timeout)
                except StopIteration:
                    return
                except multiprocessing.TimeoutError:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds "
                                       f"waiting for a worker") from None
        finally:
            pool.terminate()
            pool.join()

    def __repr__(self):
        return f"<lamina.utils.data.DataLoader object at {hex(id(self))}>"
