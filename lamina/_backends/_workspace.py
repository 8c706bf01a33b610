"""Reusable work buffers for the temporaries of the cpu kernels (conv, pool), and recycled
arrays for large op results.

A convolution step makes several arrays of a few MB that live for one call or until its
backward (column matrices, padded inputs, GEMM results, gradient scratch). Fresh, each one is
a new mapping from the C allocator whose pages fault in on first touch: on a VM that costs as
much as filling the array (LeNet: ~2,200 faults, ~9 ms of system time per training step).
Instead of changing the process's allocator (``lamina.cpu.tune_malloc()`` stays an explicit
opt-in), the kernels take those temporaries from here:

- per thread (``threading.local``) and per device, so no lock is needed and nothing is shared
  between threads; CuPy arrays are not pooled here (CuPy's memory pool already reuses device
  memory): ``empty`` simply calls ``xp.empty``;
- a buffer is handed out again only when nothing else references it: the pool holds the one
  reference of each idle buffer, and every array handed out is a view whose ``base`` is the
  buffer, so as long as any view (a saved column matrix, a tensor, anything) is alive the
  buffer's reference count says so and it is skipped. Results returned to the user must still
  be fresh arrays (a view of a pool buffer would report the buffer as its storage);
- bounded: at most ``CAPACITY`` bytes of buffers per thread and device; requests below
  ``MIN_BYTES`` (cheap heap allocations) or above ``MAX_BYTES`` are plain ``empty`` calls.

Results (an op's output or gradient, which become tensors) cannot be views of a work buffer.
For them ``result(xp, shape, dtype)`` keeps, per thread, the large plain arrays it handed out,
keyed by exact shape and dtype, and hands one out again once nothing but its list references
it: a training loop's activations, gradients and large elementwise outputs reuse the pages of
the previous step instead of faulting in fresh ones (bounded by ``RESULT_CAPACITY``; idle
arrays of other shapes are dropped first). The ops that use it: large unary math
(``numpy_backend.parallel_unary``), ReLU, linear's matrix products, conv/pool outputs and
input gradients.

Nothing here is visible through lamina's public API; the pool of a thread goes away with the
thread.
"""

from __future__ import annotations

import sys
import threading

import numpy

MIN_BYTES = 64 << 10
"""Smaller requests are plain allocations (they come from the allocator's heap, no faults)."""

MAX_BYTES = 64 << 20
"""Larger requests are plain allocations (a pool this size would hold too much memory)."""

CAPACITY = 96 << 20
"""Bytes of buffers one thread may keep per device."""

_LOCAL = threading.local()
_getrefcount = sys.getrefcount


class _Pool:
    """One thread's buffers for one device: 1-d uint8 arrays, most recently used last."""

    __slots__ = ("bufs", "nbytes")

    def __init__(self):
        self.bufs = []
        self.nbytes = 0


def _idle_refs() -> int:
    """The reference count ``_is_idle`` sees for a buffer that only the pool's list holds
    (measured through the same code path, so the interpreter's counting conventions cancel)."""
    lst = [numpy.empty(1, numpy.uint8)]
    return _count(lst, 0)


def _count(bufs, i):
    return _getrefcount(bufs[i])


_IDLE = None


def _pool(key) -> _Pool:
    pools = getattr(_LOCAL, "pools", None)
    if pools is None:
        pools = _LOCAL.pools = {}
    p = pools.get(key)
    if p is None:
        p = pools[key] = _Pool()
    return p


def _round(n: int) -> int:
    """Request sizes rounded up to 1/8 of their power of two, so that sizes that differ a
    little (another batch, another padding) share buffers."""
    step = max(4096, 1 << max(0, n.bit_length() - 4))
    return -(-n // step) * step


def _request(xp, shape, dtype, least):
    """(dtype, bytes) of a request the pools serve, or (dtype, None) for a plain allocation
    (another array library, or a size outside [least, MAX_BYTES])."""
    global _IDLE
    if xp.__name__ != "numpy":
        return dtype, None
    dtype = xp.dtype(dtype)
    size = 1
    for v in shape:
        size *= v
    need = size * dtype.itemsize
    if need < least or need > MAX_BYTES:
        return dtype, None
    if _IDLE is None:
        _IDLE = _idle_refs()
    return dtype, need


def empty(xp, shape, dtype):
    """An uninitialized C-contiguous array ``shape`` of ``dtype`` for a temporary of the
    current thread; valid as long as the caller (or anything it hands it to) references it."""
    dtype, need = _request(xp, shape, dtype, MIN_BYTES)
    if need is None:
        return xp.empty(shape, dtype)
    p = _pool("cpu")
    bufs = p.bufs
    best = -1
    for i in range(len(bufs)):
        nb = bufs[i].nbytes
        # best fit among the idle buffers big enough and not more than twice too big
        if need <= nb <= 2 * need and (best < 0 or nb < bufs[best].nbytes) \
                and _count(bufs, i) == _IDLE:
            best = i
    if best >= 0:
        buf = bufs.pop(best)
    else:
        nb = _round(need)
        # make room: drop idle buffers, least recently used first
        i = 0
        while p.nbytes + nb > CAPACITY and i < len(bufs):
            if _count(bufs, i) == _IDLE:
                p.nbytes -= bufs.pop(i).nbytes
            else:
                i += 1
        if p.nbytes + nb > CAPACITY:
            return xp.empty(shape, dtype)  # every pooled buffer is in use: not pooled
        buf = xp.empty(nb, xp.uint8)
        p.nbytes += nb
    bufs.append(buf)
    return buf[:need].view(dtype).reshape(shape)


def zeros(xp, shape, dtype):
    """Like ``empty``, filled with zeros."""
    a = empty(xp, shape, dtype)
    a.fill(0)
    return a


def clear() -> None:
    """Drop the current thread's idle buffers (buffers still in use stay with their users)."""
    pools = getattr(_LOCAL, "pools", None)
    if pools:
        pools.clear()
    _LOCAL.results = _Results()


def held_bytes() -> int:
    """Bytes of buffers the current thread's pools hold (idle or in use)."""
    pools = getattr(_LOCAL, "pools", None)
    held = sum(p.nbytes for p in pools.values()) if pools else 0
    results = getattr(_LOCAL, "results", None)
    return held + (results.nbytes if results is not None else 0)


# ------------------------------------------------------------------ recycled result arrays
RESULT_MIN_BYTES = 128 << 10
"""Smaller results are plain allocations (glibc serves them from its heap without faults)."""

RESULT_CAPACITY = 64 << 20
"""Bytes of result arrays one thread may keep."""


class _Results:
    """One thread's result arrays: (shape, dtype) -> arrays, and their total size."""

    __slots__ = ("by_key", "nbytes")

    def __init__(self):
        self.by_key = {}
        self.nbytes = 0


def _results() -> _Results:
    r = getattr(_LOCAL, "results", None)
    if r is None:
        r = _LOCAL.results = _Results()
    return r


def result(xp, shape, dtype):
    """An uninitialized C-contiguous array ``shape`` of ``dtype`` that may be returned to the
    user (a tensor's storage): a plain array (``base`` is None) of exactly that size.

    Large arrays of a shape that was allocated before reuse an earlier one that nothing
    references any more (its only reference is this thread's list), instead of a fresh mapping
    whose pages fault in on first touch; everything else is ``xp.empty``."""
    dtype, need = _request(xp, shape, dtype, RESULT_MIN_BYTES)
    if need is None:
        return xp.empty(shape, dtype)
    r = _results()
    key = (tuple(shape), dtype)
    lst = r.by_key.get(key)
    if lst is None:
        lst = r.by_key[key] = []
    for i in range(len(lst)):
        if _count(lst, i) == _IDLE:
            a = lst.pop(i)
            lst.append(a)
            return a
    if r.nbytes + need > RESULT_CAPACITY:
        _evict(r, need)
        if r.nbytes + need > RESULT_CAPACITY:
            return xp.empty(shape, dtype)
    a = xp.empty(shape, dtype)
    lst.append(a)
    r.nbytes += need
    return a


def _evict(r: _Results, need: int) -> None:
    """Drop idle result arrays (any shape) until ``need`` more bytes fit."""
    for key in list(r.by_key):
        lst = r.by_key[key]
        i = 0
        while i < len(lst) and r.nbytes + need > RESULT_CAPACITY:
            if _count(lst, i) == _IDLE:
                r.nbytes -= lst.pop(i).nbytes
            else:
                i += 1
        if not lst:
            del r.by_key[key]
        if r.nbytes + need <= RESULT_CAPACITY:
            return


def result_zeros(xp, shape, dtype):
    """Like ``result``, filled with zeros."""
    if xp.__name__ != "numpy":
        return xp.zeros(shape, dtype)
    a = result(xp, shape, dtype)
    a.fill(0)
    return a


def arith(xp, ufunc, a, b, temporary=False):
    """``ufunc(a, b)`` for an arithmetic ufunc (add, subtract, multiply, divide): a large float
    result of ``a``'s shape goes to a recycled array (``result``) or, with ``temporary``, to a
    work buffer (``empty``) the caller must not return; anything else is ``ufunc(a, b)``."""
    if a.__class__ is not numpy.ndarray or a.nbytes < RESULT_MIN_BYTES:
        return ufunc(a, b)
    shape = getattr(b, "shape", ())
    if shape != a.shape and numpy.broadcast_shapes(a.shape, shape) != a.shape:
        return ufunc(a, b)  # b widens the result
    dt = numpy.result_type(a, b)
    if dt.kind != "f":
        return ufunc(a, b)  # e.g. integer division: the result type is not the operands'
    return ufunc(a, b, out=(empty if temporary else result)(xp, a.shape, dt))
