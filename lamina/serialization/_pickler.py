"""The save side: pickle an object graph the way ``torch.save`` does, without importing torch.

Tensors become ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
OrderedDict())`` where ``storage`` is a persistent id ``('storage', torch.FloatStorage, key,
location, numel)``; Parameters become ``torch._utils._rebuild_parameter(tensor, requires_grad,
OrderedDict())``; dtypes, devices and sizes become ``torch.float32``, ``torch.device(...)``,
``torch.Size(...)``. The pickle therefore names torch's globals (what ``torch.load`` expects)
while this process never imports torch: the globals are written as raw ``GLOBAL`` opcodes.

Storages: every tensor is a view into the memory of a root array (the NumPy/CuPy array that
owns or wraps its memory). Tensors with the same root share one storage record, written once,
so tied weights and views stay tied after loading.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections import OrderedDict

import numpy as np

from .. import _dtype as D
from .._device import device as _device_cls
from .._tensor import Size, Tensor, _make

__all__ = ["pickle_with_storages"]


class _TorchGlobal:
    """A name in torch's namespace, pickled as ``GLOBAL module name`` (never imported)."""

    __slots__ = ("module", "name", "__name__")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name
        self.__name__ = name  # pickle's save_reduce reads func.__name__

    def __call__(self, *args):  # save_reduce insists that a reduce function is callable
        raise TypeError(f"{self.module}.{self.name} is a pickling placeholder")

    def __repr__(self) -> str:
        return f"<torch global {self.module}.{self.name}>"


_REBUILD_V2 = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAM = _TorchGlobal("torch._utils", "_rebuild_parameter")
_REBUILD_PARAM_STATE = _TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
_TORCH_SIZE = _TorchGlobal("torch", "Size")
_TORCH_DEVICE = _TorchGlobal("torch", "device")
_TORCH_DTYPES = {d.name: _TorchGlobal("torch", d.name) for d in D.ALL}
# NumPy dtype -> torch's legacy typed-storage class (what torch writes in pids)
_STORAGE_TYPES = {d.np: _TorchGlobal("torch", d.storage_type) for d in D.ALL}


class _StorageRef:
    """One storage to write: ``nbytes`` bytes of a root array's memory, from byte ``start``."""

    __slots__ = ("key", "root", "start", "nbytes", "dtype", "location", "pid", "device")

    def __init__(self, key, root, start, nbytes, dtype, location, device):
        self.key = key
        self.root = root  # keeps the memory alive until it is written
        self.start = start
        self.nbytes = nbytes
        self.dtype = dtype
        self.location = location
        self.device = device
        self.pid = ("storage", _STORAGE_TYPES[dtype], key, location,
                    nbytes // dtype.itemsize)

    def payload(self):
        """The storage bytes as a flat uint8 host array (no copy for cpu roots)."""
        from .._device import backend

        root = self.root
        if self.nbytes == 0:
            return np.empty(0, np.uint8)
        # the root is C- or F-contiguous: its memory in address order is one flat run
        flat = root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)
        region = flat.view(np.uint8)[self.start:self.start + self.nbytes]
        host = backend(self.device).to_numpy(region)
        if self.dtype.byteorder == ">":  # pragma: no cover - big-endian hosts
            host = host.view(self.dtype).astype(self.dtype.newbyteorder("<")).view(np.uint8)
        return host


class _Placeholder:
    """Stands for a storage during the first (measuring) pickling pass."""

    __slots__ = ()
    pid = ("storage", None, "", "", 0)


_PLACEHOLDER = _Placeholder()


def _ptr(a, cuda: bool) -> int:
    if cuda:
        return int(a.data.ptr)
    return a.__array_interface__["data"][0]


def _extent(a, ptr: int) -> tuple[int, int]:
    """[lo, hi) byte addresses an array touches (strides may be negative or zero)."""
    if a.size == 0:
        return ptr, ptr
    lo = hi = ptr
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


class _StorageTable:
    """Groups tensors by the root array whose memory they view; one storage per root.

    Pickling runs twice: the first pass (``measuring``) only records, per root, the span of
    bytes the saved tensors touch; the second writes each storage as exactly that span. So
    views of one array share a storage, and a small view of a big array (a NumPy slice made a
    tensor with ``from_numpy``) does not drag the whole array into the file.
    """

    __slots__ = ("measuring", "spans", "by_root", "refs")

    def __init__(self):
        self.measuring = True
        self.spans: dict[int, list] = {}  # id(root) -> [lo, hi, root]
        self.by_root: dict[int, _StorageRef] = {}
        self.refs: list[_StorageRef] = []

    def _new(self, root, start, nbytes, dtype, dev) -> _StorageRef:
        location = "cpu" if dev.type == "cpu" else f"cuda:{dev.index or 0}"
        ref = _StorageRef(str(len(self.refs)), root, start, nbytes, dtype, location, dev)
        self.refs.append(ref)
        return ref

    def tensor_args(self, t: Tensor):
        """(storage ref, offset, size, stride) of a tensor, sharing storage with its root."""
        from .._device import backend

        a = t._data
        dev = t._device
        cuda = dev.type != "cpu"
        atype = backend(dev).array_type
        if not isinstance(a, atype):  # a backend scalar: make it a 0-d array
            a = backend(dev).xp.asarray(a)
        dt = a.dtype
        isz = dt.itemsize
        shape = tuple(int(n) for n in a.shape)
        strides = tuple(s // isz for s in a.strides)
        root = a
        while isinstance(root.base, atype):
            root = root.base
        ok = a.size > 0 and all(s >= 0 and s % isz == 0 for s in a.strides) and (
            root.flags.c_contiguous or root.flags.f_contiguous)
        if ok:
            ptr = _ptr(a, cuda)
            lo, hi = _extent(a, ptr)
            span = self.spans.get(id(root))
            if self.measuring:
                if span is None:
                    self.spans[id(root)] = [lo, hi, root]
                else:
                    span[0] = min(span[0], lo)
                    span[1] = max(span[1], hi)
                return _PLACEHOLDER, 0, shape, strides
            if span is not None and span[2] is root:
                lo, hi = span[0], span[1]
            if (ptr - lo) % isz == 0 and (hi - lo) % isz == 0:
                ref = self.by_root.get(id(root))
                if ref is None:
                    rlo = _extent(root, _ptr(root, cuda))[0]
                    ref = self.by_root[id(root)] = self._new(root, lo - rlo, hi - lo, dt, dev)
                elif ref.dtype != dt:
                    raise RuntimeError("Cannot save multiple tensors or storages that view the "
                                       "same data as different types")
                return ref, (ptr - lo) // isz, shape, strides
        if self.measuring:
            return _PLACEHOLDER, 0, shape, strides
        # empty, negative-stride or oddly laid out arrays: a contiguous copy of their own
        c = a.copy() if a.size else a.reshape(shape)
        ref = self._new(c, 0, c.nbytes, dt, dev)
        stride = []
        acc = 1
        for n in reversed(shape):
            stride.append(acc)
            acc *= max(n, 1)
        return ref, 0, shape, tuple(reversed(stride))


def _uninitialized(t) -> bool:
    return bool(getattr(t, "_is_uninitialized", False))


def _registry_type():
    # no import here: without lamina.nn loaded there is no registry to meet
    m = sys.modules.get("lamina.nn.module")
    return None if m is None else m._Registry


class _Pickler(pickle._Pickler):
    """Python's pickler with torch's reductions for lamina's tensors, dtypes and devices."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, table: _StorageTable):
        super().__init__(file, protocol)
        self._table = table

    def persistent_id(self, obj):
        t = type(obj)
        if t is _StorageRef or t is _Placeholder:
            return obj.pid
        return None

    def reducer_override(self, obj):
        t = type(obj)
        if t is Tensor:
            return self._reduce_tensor(obj)
        if t is Size:
            return (_TORCH_SIZE, (tuple(obj),))
        if t is _device_cls:
            return (_TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        if isinstance(obj, Tensor):
            from ..nn.parameter import Parameter

            if _uninitialized(obj):
                return NotImplemented  # the class's own pickling (lamina-only files)
            if isinstance(obj, Parameter):
                data = _make(obj._data, obj._device)
                state = {k: v for k, v in getattr(obj, "__dict__", {}).items()
                         if not k.startswith("_")}
                if state:
                    return (_REBUILD_PARAM_STATE, (data, obj.requires_grad, OrderedDict(),
                                                   state))
                return (_REBUILD_PARAM, (data, obj.requires_grad, OrderedDict()))
            # Buffer and other subclasses are saved as plain tensors (torch does the same)
            return self._reduce_tensor(obj)
        if t is _registry_type():
            # a module's _parameters / _buffers / _modules: written as the plain OrderedDict
            # torch writes, so a whole saved model loads under weights_only with just its
            # module classes allowed (Module.__setstate__ makes it a registry again)
            return (OrderedDict, (), None, None, iter(obj.items()))
        return NotImplemented

    def _reduce_tensor(self, t: Tensor):
        if t._device.type == "meta":  # pragma: no cover - lamina has no meta tensors
            raise RuntimeError("lamina.save: cannot save a meta tensor (it holds no data)")
        ref, offset, size, stride = self._table.tensor_args(t)
        return (_REBUILD_V2, (ref, offset, size, stride, bool(t.requires_grad), OrderedDict()))

    def _save_torch_global(self, obj):
        self.write(pickle.GLOBAL + obj.module.encode("ascii") + b"\n" +
                   obj.name.encode("ascii") + b"\n")
        self.memoize(obj)

    def _save_dtype(self, obj):
        self.save(_TORCH_DTYPES[obj.name])

    dispatch[_TorchGlobal] = _save_torch_global
    dispatch[D.dtype] = _save_dtype


class _Discard:
    __slots__ = ()

    @staticmethod
    def write(data) -> int:
        return len(data)


def pickle_with_storages(obj, protocol: int = 2):
    """Pickle ``obj`` as torch.save does; returns (data.pkl bytes, [storage refs])."""
    table = _StorageTable()
    _Pickler(_Discard(), protocol, table).dump(obj)  # pass 1: measure each root's span
    table.measuring = False
    buf = io.BytesIO()
    _Pickler(buf, protocol, table).dump(obj)
    return buf.getvalue(), table.refs
