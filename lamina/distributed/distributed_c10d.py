"""torch.distributed's process groups and collectives, on MPI (mpi4py).

Every byte between processes goes through MPI. Tensors travel as buffers: the backend array
of the tensor itself is handed to MPI (no pickling, no copy when it is contiguous), and the
result is written in place. Dtypes MPI has no type for travel as same-size integer views
(bool as uint8, float16 as uint16); reductions on float16 run in float32.

Each collective runs as a non-blocking MPI call completed by a test-poll loop with a deadline
(the process group's ``timeout``): a rank that never joins turns into a ``RuntimeError`` naming
the collective, instead of a hang. Before each collective the ranks exchange a small header
(operation, dtype, shape, root, reduce op), so that mismatched calls raise a named error
rather than corrupting memory. ``init_process_group`` also installs an exception hook that
calls ``MPI_Abort`` when a rank dies of an uncaught exception, so the other ranks stop too.
"""

from __future__ import annotations

import datetime
import enum
import importlib.util
import os
import sys
import time

import numpy as np

__all__ = [
    "is_available", "is_mpi_available", "init_process_group", "is_initialized",
    "destroy_process_group", "get_rank", "get_world_size", "get_backend", "barrier",
    "ReduceOp", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
    "reduce_scatter_tensor", "gather", "scatter", "send", "recv", "isend", "irecv",
    "broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list",
    "new_group", "get_process_group_ranks", "get_global_rank", "get_group_rank", "Work",
    "ProcessGroup", "GroupMember", "group", "Backend",
]

_INSTALL = ("lamina.distributed needs mpi4py and an MPI library: "
            "pip install 'lamina[distributed]' (or: pip install mpi4py mpich)")
_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")
default_pg_timeout = datetime.timedelta(minutes=30)


def is_available() -> bool:
    """True when mpi4py is installed (checked without importing it: importing starts MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def _mpi():
    MPI = _state.get("MPI")
    if MPI is None:
        if not is_available():
            raise RuntimeError(_INSTALL)
        from mpi4py import MPI

        _state["MPI"] = MPI
    return MPI


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """The reduction of ``all_reduce``/``reduce``/``reduce_scatter_tensor`` (torch's names)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class Backend(str):
    """Backend names; lamina runs every backend name on MPI."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        return str.__new__(cls, name.lower())


class ProcessGroup:
    """A set of ranks with its own MPI communicator (a duplicate: traffic never mixes)."""

    def __init__(self, comm, ranks, timeout):
        self._comm = comm
        self._ranks = list(ranks)  # global ranks, in group-rank order
        self._timeout = timeout.total_seconds() if hasattr(timeout, "total_seconds") \
            else float(timeout)

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return "mpi"

    def __repr__(self):
        return f"ProcessGroup(backend=mpi, ranks={self._ranks})"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801 - torch's name
    WORLD = None


_state = {"world": None, "hook": None, "backend": None, "MPI": None}


def is_initialized() -> bool:
    return _state["world"] is not None


def _world() -> ProcessGroup:
    w = _state["world"]
    if w is None:
        raise ValueError(_NOT_INIT)
    return w


def _group(g) -> ProcessGroup:
    w = _world()
    if g is None:
        return w
    if g is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("this rank is not a member of the group (GroupMember.NON_GROUP_MEMBER)")
    return g


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the default process group. Rank and world size come from MPI (``mpiexec -n N`` or
    ``python -m lamina.distributed.run``); ``world_size``/``rank`` or the ``WORLD_SIZE``/``RANK``
    environment variables, when given, must agree with MPI's. Every backend name (``mpi``,
    ``gloo``, ``nccl``) runs on MPI, so torch programs run unchanged; ``init_method`` and
    ``store`` are accepted and not needed (MPI does the rendezvous)."""
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if not is_available():
        raise RuntimeError(_INSTALL)
    MPI = _mpi()
    if not MPI.Is_initialized():
        MPI.Init_thread()
    world = MPI.COMM_WORLD
    n, r = world.Get_size(), world.Get_rank()
    env_n = os.environ.get("WORLD_SIZE")
    env_r = os.environ.get("RANK")
    if n == 1 and world_size in (-1, 1) and env_n not in (None, "1"):
        raise RuntimeError(
            f"init_process_group: WORLD_SIZE={env_n} is set but this process was not started by "
            f"MPI (MPI world size is 1); start the ranks with 'python -m lamina.distributed.run "
            f"--nproc-per-node {env_n} script.py' or 'mpiexec -n {env_n} python script.py'")
    for what, given, real in (("world_size", world_size, n), ("rank", rank, r),
                              ("WORLD_SIZE", env_n, n), ("RANK", env_r, r)):
        if given is None or given == -1:
            continue
        if int(given) != real:
            raise ValueError(f"init_process_group: {what}={given} does not match MPI's "
                             f"(world size {n}, rank {r}); ranks come from mpiexec")
    pg = ProcessGroup(world.Dup(), range(n), timeout or default_pg_timeout)
    _state["world"] = pg
    _state["backend"] = backend or "mpi"
    group.WORLD = GroupMember.WORLD = pg
    if n > 1:
        prev = sys.excepthook

        def hook(tp, val, tb, _prev=prev, _r=r):
            # an uncaught exception on one rank stops every rank (no hang in a collective)
            _prev(tp, val, tb)
            sys.stderr.write(f"lamina.distributed: rank {_r} failed with {tp.__name__}; "
                             f"aborting all ranks (MPI_Abort)\n")
            for f in (sys.stdout, sys.stderr):
                try:
                    f.flush()
                except (OSError, ValueError):
                    pass
            # mpiexec forwards each rank's output asynchronously and MPI_Abort tears the job
            # down at once: give it a moment, or the traceback above may never be shown
            time.sleep(0.5)
            MPI.COMM_WORLD.Abort(1)

        sys.excepthook = hook
        _state["hook"] = (prev, hook)


def destroy_process_group(group=None) -> None:
    if group is not None and group is not _state["world"]:
        group._comm.Free()
        return
    w = _world()
    w._comm.Free()
    h = _state["hook"]
    if h is not None and sys.excepthook is h[1]:
        sys.excepthook = h[0]
    _state.update(world=None, hook=None, backend=None)
    globals()["group"].WORLD = GroupMember.WORLD = None


def get_backend(group=None) -> str:
    _group(group)
    return "mpi"


def get_rank(group=None) -> int:
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None) -> int:
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_process_group_ranks(group) -> list:
    return list(_group(group)._ranks)


def get_global_rank(group, group_rank: int) -> int:
    return _group(group)._ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    g = _group(group)
    if global_rank not in g._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {g}")
    return g._ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None,
              sort_ranks: bool = True):
    """A group of ``ranks`` (all ranks must call it, as in torch); non-members get
    ``GroupMember.NON_GROUP_MEMBER``."""
    w = _world()
    ranks = list(range(w.size())) if ranks is None else list(ranks)
    if sort_ranks:
        ranks = sorted(ranks)
    for q in ranks:
        if not 0 <= q < w.size():
            raise ValueError(f"new_group: rank {q} is out of range for world size {w.size()}")
    MPI = _mpi()
    sub = w._comm.Create(w._comm.Get_group().Incl(ranks))
    if sub == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(sub, ranks, timeout or datetime.timedelta(seconds=w._timeout))


# --------------------------------------------------------------------------- the wait loop


class Work:
    """The handle of an ``async_op=True`` call: ``wait()`` completes it, ``is_completed()``
    tests without blocking."""

    def __init__(self, reqs, finish, desc, g):
        self._reqs = reqs
        self._finish = finish
        self._desc = desc
        self._g = g
        self._done = False
        self._result = None

    def is_completed(self) -> bool:
        if not self._done and _mpi().Request.Testall(self._reqs):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            t = self._g._timeout if timeout is None else (
                timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout)
            _wait_all(self._reqs, t, self._desc, self._g)
            self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._result = self._finish()

    def result(self):
        self.wait()
        return self._result

    def exception(self):
        return None


def _wait_all(reqs, timeout, desc, g):
    """Complete ``reqs`` or raise after ``timeout`` seconds. Test-polls: a tight spin first
    (latency), then yielding the core (other ranks may share it), then short sleeps."""
    MPI = _mpi()
    testall = MPI.Request.Testall
    if testall(reqs):
        return
    now = time.monotonic
    start = now()
    deadline = start + timeout
    while not testall(reqs):
        t = now()
        if t - start < 0.0002:
            continue
        if t - start < 0.01:
            time.sleep(0)
            continue
        time.sleep(0.0005)
        if t > deadline:
            for q in reqs:
                try:
                    q.Cancel()
                except Exception:  # noqa: BLE001 - collectives cannot be cancelled
                    pass
            raise RuntimeError(
                f"lamina.distributed: {desc} timed out after {timeout:g} s on rank "
                f"{_world().rank()} (group of {g.size()}): not every rank joined it; another "
                f"rank may have failed, exited, or called a different collective")


def _run(reqs, finish, desc, g, async_op):
    w = Work(reqs, finish, desc, g)
    if async_op:
        return w
    w.wait()
    return None


# --------------------------------------------------------------------------- buffers

_DT = {np.dtype(t): k for k, t in enumerate(
    ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
     "complex64", "complex128", "uint16", "uint32", "uint64"])}
_VIEW = {np.dtype("bool"): np.uint8, np.dtype("float16"): np.uint16}
_OPS = ["all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
        "reduce_scatter_tensor", "gather", "scatter", "barrier"]


def _tensor_of(t, what):
    from .._tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(t).__name__}")
    return t


def _host(t):
    """(contiguous host array, write-back function or None) for tensor ``t``."""
    a = t._data
    if not isinstance(a, np.ndarray):  # cuda: stage through host memory
        h = np.ascontiguousarray(a.get())

        def back(h=h, t=t):
            t._data[...] = _to_dev(h, t)
        return h, back
    if a.flags.c_contiguous and a.flags.writeable:
        return a, None
    h = np.ascontiguousarray(a)

    def back(h=h, t=t):
        t._data[...] = h
    return h, back


def _to_dev(h, t):
    import cupy

    return cupy.asarray(h)


def _move_view(a):
    v = _VIEW.get(a.dtype)
    return a if v is None else a.view(v)


def _mpi_op(op, dt):
    MPI = _mpi()
    op = RedOpType(int(op))
    if dt == np.bool_:
        return {RedOpType.SUM: MPI.MAX, RedOpType.MAX: MPI.MAX, RedOpType.BOR: MPI.MAX,
                RedOpType.PRODUCT: MPI.MIN, RedOpType.MIN: MPI.MIN, RedOpType.BAND: MPI.MIN,
                RedOpType.BXOR: MPI.BXOR}[op]
    if op == RedOpType.AVG and dt.kind not in "fc":
        raise ValueError(f"ReduceOp.AVG needs a floating point tensor; got {_dtname(dt)}")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dt.kind not in "iu":
        raise ValueError(f"ReduceOp.{op.name} needs an integer tensor; got {_dtname(dt)}")
    return {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
            RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
            RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}[op]


def _dtname(dt):
    return "torch." + ("bool" if dt == np.bool_ else np.dtype(dt).name)


def _red_buf(a):
    """The array MPI reduces: bool as uint8, float16 in float32."""
    if a.dtype == np.bool_:
        return a.view(np.uint8)
    if a.dtype == np.float16:
        return a.astype(np.float32)
    return a


def _check(g, opname, a=None, root=-1, op=-1, extra=0):
    """Exchange a header so that every rank agrees on the call; a named error otherwise."""
    if g.size() == 1:
        return
    if a is None:
        dt, shp = -1, ()
    else:
        dt, shp = _DT.get(a.dtype, 99), tuple(a.shape)
    hs = 0
    for s in shp:
        hs = (hs * 1000003 + int(s) + 1) % (1 << 61)
    h = np.array([_OPS.index(opname), dt, len(shp), hs, root, int(op), extra], np.int64)
    both = np.concatenate([h, -h])
    MPI = _mpi()
    _wait_all([g._comm.Iallreduce(MPI.IN_PLACE, both, op=MPI.MAX)], g._timeout,
              f"{opname} (header)", g)
    if np.array_equal(both[:7], -both[7:]):
        return
    mine = (opname, None if a is None else _dtname(a.dtype), list(shp), root)
    every = g._comm.allgather(mine)
    lines = "; ".join(f"rank {k}: {o}(dtype={d}, shape={s}" + (f", root={r})" if r >= 0 else ")")
                      for k, (o, d, s, r) in enumerate(every))
    raise RuntimeError(f"lamina.distributed: mismatched collective calls across ranks: {lines}")


def _root(g, src, group_src, what):
    if group_src is not None:
        if src is not None:
            raise ValueError(f"{what}: pass only one of src/dst and group_src/group_dst")
        return int(group_src)
    src = 0 if src is None else int(src)
    if src not in g._ranks:
        raise ValueError(f"{what}: rank {src} is not part of the group {g._ranks}")
    return g._ranks.index(src)


# --------------------------------------------------------------------------- collectives


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    g = _group(group)
    _check(g, "barrier")
    return _run([g._comm.Ibarrier()], None, "barrier", g, async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over all ranks, in place."""
    g = _group(group)
    _tensor_of(tensor, "all_reduce")
    a, back = _host(tensor)
    mop = _mpi_op(op, a.dtype)
    _check(g, "all_reduce", a, op=op)
    MPI = _mpi()
    r = _red_buf(a)
    req = g._comm.Iallreduce(MPI.IN_PLACE, r, op=mop)

    def finish():
        _finish_red(a, r, op, g.size())
        if back is not None:
            back()
    return _run([req], finish, "all_reduce", g, async_op)


def _finish_red(a, r, op, n):
    if int(op) == RedOpType.AVG:
        r /= n
    if r is not a and a.dtype != np.bool_:
        a[...] = r


def broadcast(tensor, src=None, group=None, async_op: bool = False, group_src=None):
    g = _group(group)
    _tensor_of(tensor, "broadcast")
    root = _root(g, src, group_src, "broadcast")
    a, back = _host(tensor)
    _check(g, "broadcast", a, root=root)
    req = g._comm.Ibcast(_move_view(a), root=root)
    return _run([req], back, "broadcast", g, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    g = _group(group)
    _tensor_of(tensor, "reduce")
    root = _root(g, dst, group_dst, "reduce")
    a, back = _host(tensor)
    mop = _mpi_op(op, a.dtype)
    _check(g, "reduce", a, root=root, op=op)
    MPI = _mpi()
    r = _red_buf(a)
    me = g.rank() == root
    if me:
        req = g._comm.Ireduce(MPI.IN_PLACE, r, op=mop, root=root)
    else:
        req = g._comm.Ireduce(r, None, op=mop, root=root)

    def finish():
        if me:
            _finish_red(a, r, op, g.size())
            if back is not None:
                back()
    return _run([req], finish, "reduce", g, async_op)


def _same(t, ref, what):
    if tuple(t.shape) != tuple(ref.shape) or t._data.dtype != ref._data.dtype:
        raise ValueError(f"{what}: every tensor must have shape {tuple(ref.shape)} and dtype "
                         f"{_dtname(ref._data.dtype)}; got {tuple(t.shape)}, "
                         f"{_dtname(t._data.dtype)}")


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    g = _group(group)
    _tensor_of(tensor, "all_gather")
    n = g.size()
    if len(tensor_list) != n:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors; expected "
                         f"one per rank ({n})")
    for t in tensor_list:
        _same(t, tensor, "all_gather")
    a, _ = _host(tensor)
    _check(g, "all_gather", a)
    out = np.empty((n,) + a.shape, a.dtype)
    req = g._comm.Iallgather(_move_view(a), _move_view(out))

    def finish():
        for k, t in enumerate(tensor_list):
            _write(t, out[k])
    return _run([req], finish, "all_gather", g, async_op)


def _write(t, h):
    if isinstance(t._data, np.ndarray):
        t._data[...] = h
    else:
        t._data[...] = _to_dev(h, t)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Gather ``input_tensor`` from every rank into ``output_tensor``: concatenated along dim 0
    (shape ``(n * d0, ...)``) or stacked (shape ``(n, *input.shape)``)."""
    g = _group(group)
    n = g.size()
    i = _tensor_of(input_tensor, "all_gather_into_tensor")
    o = _tensor_of(output_tensor, "all_gather_into_tensor")
    if o.numel() != n * i.numel() or o._data.dtype != i._data.dtype:
        raise ValueError(f"all_gather_into_tensor: output must hold {n} x {tuple(i.shape)} "
                         f"elements of {_dtname(i._data.dtype)}; got {tuple(o.shape)}, "
                         f"{_dtname(o._data.dtype)}")
    a, _ = _host(i)
    b, back = _host(o)
    _check(g, "all_gather_into_tensor", a)
    req = g._comm.Iallgather(_move_view(a), _move_view(b))
    return _run([req], back, "all_gather_into_tensor", g, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``input`` (``n`` chunks along dim 0) over ranks; rank k gets chunk k in ``output``."""
    g = _group(group)
    n = g.size()
    i = _tensor_of(input, "reduce_scatter_tensor")
    o = _tensor_of(output, "reduce_scatter_tensor")
    if i.numel() != n * o.numel() or o._data.dtype != i._data.dtype:
        raise ValueError(f"reduce_scatter_tensor: input must hold {n} x {tuple(o.shape)} "
                         f"elements of {_dtname(o._data.dtype)}; got {tuple(i.shape)}, "
                         f"{_dtname(i._data.dtype)}")
    a, _ = _host(i)
    b, back = _host(o)
    mop = _mpi_op(op, a.dtype)
    _check(g, "reduce_scatter_tensor", a, op=op)
    ra, rb = _red_buf(a), _red_buf(b)
    req = g._comm.Ireduce_scatter_block(ra, rb, op=mop)

    def finish():
        _finish_red(b, rb, op, n)
        if back is not None:
            back()
    return _run([req], finish, "reduce_scatter_tensor", g, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op: bool = False,
           group_dst=None):
    g = _group(group)
    _tensor_of(tensor, "gather")
    root = _root(g, dst, group_dst, "gather")
    me = g.rank() == root
    n = g.size()
    if me:
        if gather_list is None or len(gather_list) != n:
            raise ValueError(f"gather: the destination rank needs a gather_list of {n} tensors")
        for t in gather_list:
            _same(t, tensor, "gather")
    elif gather_list:
        raise ValueError("gather: Argument ``gather_list`` must NOT be specified on non-root "
                         "ranks.")
    a, _ = _host(tensor)
    _check(g, "gather", a, root=root)
    out = np.empty((n,) + a.shape, a.dtype) if me else None
    req = g._comm.Igather(_move_view(a), _move_view(out) if me else None, root=root)

    def finish():
        if me:
            for k, t in enumerate(gather_list):
                _write(t, out[k])
    return _run([req], finish, "gather", g, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op: bool = False,
            group_src=None):
    g = _group(group)
    _tensor_of(tensor, "scatter")
    root = _root(g, src, group_src, "scatter")
    me = g.rank() == root
    n = g.size()
    a, back = _host(tensor)
    if me:
        if scatter_list is None or len(scatter_list) != n:
            raise ValueError(f"scatter: the source rank needs a scatter_list of {n} tensors")
        for t in scatter_list:
            _same(t, tensor, "scatter")
        src_buf = np.stack([np.asarray(_host(t)[0]) for t in scatter_list])
    elif scatter_list:
        raise ValueError("scatter: Argument ``scatter_list`` must NOT be specified on non-root "
                         "ranks.")
    _check(g, "scatter", a, root=root)
    req = g._comm.Iscatter(_move_view(src_buf) if me else None, _move_view(a), root=root)
    return _run([req], back, "scatter", g, async_op)


# --------------------------------------------------------------------------- point to point


def _header(g, a):
    h = np.zeros(20, np.int64)
    h[0], h[1], h[2] = g.rank(), _DT.get(a.dtype, 99), a.ndim
    h[3:3 + a.ndim] = a.shape
    return h


def isend(tensor, dst=None, group=None, tag: int = 0, group_dst=None):
    g = _group(group)
    _tensor_of(tensor, "isend")
    peer = _root(g, dst, group_dst, "isend")
    a, _ = _host(tensor)
    if a.ndim > 17:
        raise ValueError("send: tensors of more than 17 dimensions are not supported")
    reqs = [g._comm.Isend(_header(g, a), dest=peer, tag=2 * tag),
            g._comm.Isend(_move_view(a), dest=peer, tag=2 * tag + 1)]
    return Work(reqs, None, f"send to rank {g._ranks[peer]}", g)


def send(tensor, dst=None, group=None, tag: int = 0, group_dst=None) -> None:
    isend(tensor, dst, group, tag, group_dst).wait()


def irecv(tensor, src=None, group=None, tag: int = 0, group_src=None):
    """Receive into ``tensor``; the sender's header (its shape and dtype) is checked first, so
    this waits for the header; the data itself arrives asynchronously."""
    g = _group(group)
    _tensor_of(tensor, "irecv")
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        _root(g, src, group_src, "irecv")
    a, back = _host(tensor)
    head = np.zeros(20, np.int64)
    _wait_all([g._comm.Irecv(head, source=peer, tag=2 * tag)], g._timeout,
              f"recv from rank {'any' if src is None else src}", g)
    sender = int(head[0])
    dt, nd = int(head[1]), int(head[2])
    shape = tuple(int(s) for s in head[3:3 + nd])
    if dt != _DT.get(a.dtype, 99) or shape != a.shape:
        names = {v: _dtname(d) for d, v in _DT.items()}
        raise RuntimeError(f"lamina.distributed: recv got a tensor of shape {list(shape)}, dtype "
                           f"{names.get(dt, '?')} from rank {g._ranks[sender]}; the receiving "
                           f"tensor has shape {list(a.shape)}, dtype {_dtname(a.dtype)}")
    req = g._comm.Irecv(_move_view(a), source=sender, tag=2 * tag + 1)

    def finish():
        if back is not None:
            back()
        return g._ranks[sender]
    return Work([req], finish, f"recv from rank {g._ranks[sender]}", g)


def recv(tensor, src=None, group=None, tag: int = 0, group_src=None) -> int:
    return irecv(tensor, src, group, tag, group_src).result()


# --------------------------------------------------------------------------- objects


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = _group(group)
    root = _root(g, src, group_src, "broadcast_object_list")
    got = g._comm.bcast(list(object_list) if g.rank() == root else None, root=root)
    object_list[:] = got


def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    if len(object_list) != g.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries; "
                         f"expected one per rank ({g.size()})")
    object_list[:] = g._comm.allgather(obj)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    g = _group(group)
    root = _root(g, dst, group_dst, "gather_object")
    got = g._comm.gather(obj, root=root)
    if g.rank() == root:
        object_gather_list[:] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    g = _group(group)
    root = _root(g, src, group_src, "scatter_object_list")
    got = g._comm.scatter(list(scatter_object_input_list) if g.rank() == root else None,
                          root=root)
    scatter_object_output_list[0] = got
