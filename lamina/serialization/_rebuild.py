"""The load side's building blocks: storages, torch's rebuild functions, torch names -> lamina.

``torch.load`` turns a pickle's persistent ids into storages and calls
``torch._utils._rebuild_tensor_v2`` & co. on them. lamina gives those names lamina meanings
(:func:`torch_names`), and every rebuild checks its arguments against the storage before it
makes a view (so a checkpoint whose tensors reach past their storage is refused, never read
out of bounds).
"""

from __future__ import annotations

import warnings
from collections import Counter, OrderedDict

from .. import _dtype as D
from .._device import backend
from .._device import device as _device_cls
from .._tensor import Size, Tensor, _make
from ._zipformat import CheckpointError

__all__ = ["LoadedStorage", "StorageType", "REBUILD_FUNCTIONS", "SAFE_BUILTINS",
           "UnsupportedDtype", "torch_names", "unsupported_torch_global"]

_MAX_DIMS = 64


class StorageType:
    """``torch.FloatStorage`` & co. as found in a pickle: which dtype a storage holds."""

    __slots__ = ("name", "np", "dtype_name", "torch_dtype")

    def __init__(self, name: str, dtype_name: str | None):
        self.name = name
        self.dtype_name = dtype_name
        self.np = None if dtype_name is None else D._NAMES[dtype_name].np
        self.torch_dtype = "torch." + _UNSUPPORTED_STORAGE.get(name, dtype_name or name)

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class UnsupportedDtype:
    """A torch dtype lamina has no equivalent for (bfloat16, complex64, ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_SUPPORTED = ", ".join(d.name for d in D.ALL)


def _unsupported_dtype_error(what: str) -> CheckpointError:
    return CheckpointError(f"lamina.load: the checkpoint holds a tensor of {what}, which lamina "
                           f"does not support; expected one of {_SUPPORTED} (convert it in "
                           f"torch first, e.g. t.float())")


class LoadedStorage:
    """A storage read from a checkpoint: flat bytes on a device, typed by the pickle.

    This is also the object a ``map_location`` callable receives (as torch passes an
    UntypedStorage): return it unchanged, or ``storage.cpu()`` / ``storage.cuda(i)`` /
    ``storage.to(device)``.
    """

    __slots__ = ("raw", "device", "np", "name", "_typed")

    def __init__(self, raw, device, npdtype, name: str):
        self.raw = raw  # flat uint8 array (numpy on cpu, cupy on cuda)
        self.device = device
        self.np = npdtype
        self.name = name
        self._typed = None

    def nbytes(self) -> int:
        return int(self.raw.nbytes)

    size = nbytes

    def __len__(self) -> int:
        return int(self.raw.nbytes)

    def __repr__(self) -> str:
        return f"<lamina storage {self.name!r}: {self.nbytes()} bytes on {self.device}>"

    def to(self, device) -> LoadedStorage:
        from .._device import to_device

        dev = to_device(device)
        if dev == self.device:
            return self
        if dev.type == "cuda":
            _check_cuda(dev)
        host = backend(self.device).to_numpy(self.raw)
        return LoadedStorage(backend(dev).from_numpy(host), dev, self.np, self.name)

    def cpu(self) -> LoadedStorage:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> LoadedStorage:
        if device is None:
            return self.to("cuda")
        return self.to(f"cuda:{device}" if isinstance(device, int) else device)

    @property
    def array(self):
        """The storage as a flat array of its declared dtype."""
        a = self._typed
        if a is None:
            a = self._typed = self.raw.view(self.np)
        return a

    def typed(self, npdtype):
        """The bytes seen as ``npdtype`` elements (for untyped storages)."""
        if npdtype == self.np:
            return self.array
        if self.raw.nbytes % npdtype.itemsize:
            raise CheckpointError(f"lamina.load: storage {self.name!r} has {self.nbytes()} "
                                  f"bytes, not a whole number of {npdtype} elements")
        return self.raw.view(npdtype)


def _check_cuda(dev) -> None:
    """torch's errors for cuda storages on a machine that cannot hold them."""
    from .. import cuda

    if not cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but lamina.cuda.is_available() "
            "is False (CuPy is not installed, or it sees no GPU). If you are running on a "
            "CPU-only machine, please use lamina.load with map_location=lamina.device('cpu') "
            "to map your storages to the CPU.")
    n = cuda.device_count()
    idx = dev.index or 0
    if idx >= n:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {idx} but "
            f"lamina.cuda.device_count() is {n}. Please use lamina.load with map_location to "
            f"map your storages to an existing device.")


def _is_int(x) -> bool:
    return type(x) is int


def _view(storage, npdtype, offset, size, stride, what: str):
    """A view of ``storage`` with torch's (offset, size, stride) in elements, bounds-checked."""
    if not isinstance(storage, LoadedStorage):
        raise CheckpointError(f"lamina.load: {what} expects a storage as its first argument, "
                              f"got {type(storage).__name__}")
    if not _is_int(offset) or offset < 0:
        raise CheckpointError(f"lamina.load: {what}: storage offset must be an int >= 0, got "
                              f"{offset!r}")
    if not isinstance(size, tuple) or not isinstance(stride, tuple):
        raise CheckpointError(f"lamina.load: {what}: size and stride must be tuples, got "
                              f"{type(size).__name__} and {type(stride).__name__}")
    if len(size) != len(stride) or len(size) > _MAX_DIMS:
        raise CheckpointError(f"lamina.load: {what}: size {tuple(size)} and stride "
                              f"{tuple(stride)} do not match (or have more than {_MAX_DIMS} "
                              f"dims)")
    numel = 1
    last = offset
    for n, s in zip(size, stride):
        if not _is_int(n) or not _is_int(s) or n < 0 or s < 0:
            raise CheckpointError(f"lamina.load: {what}: size {tuple(size)} / stride "
                                  f"{tuple(stride)} must be ints >= 0")
        numel *= n
        last += (n - 1) * s
    arr = storage.typed(npdtype)
    have = int(arr.size)
    if numel and last >= have:
        raise CheckpointError(
            f"lamina.load: a tensor of size {tuple(size)} with stride {tuple(stride)} at offset "
            f"{offset} needs {last + 1} elements, but its storage {storage.name!r} has only "
            f"{have} ({npdtype}); the checkpoint is corrupt")
    if not numel:
        if offset > have:
            raise CheckpointError(f"lamina.load: {what}: offset {offset} is past the end of "
                                  f"storage {storage.name!r} ({have} elements)")
        return arr[:0].reshape(size)
    contiguous = True
    acc = 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1 and s != acc:
            contiguous = False
            break
        acc *= n
    if contiguous:
        return arr[offset:offset + numel].reshape(size)
    isz = npdtype.itemsize
    bstrides = tuple(s * isz for s in stride)
    if storage.device.type == "cpu":
        import numpy as np

        return np.ndarray(size, npdtype, buffer=arr, offset=offset * isz, strides=bstrides)
    xp = backend(storage.device).xp
    return xp.lib.stride_tricks.as_strided(arr[offset:], size, bstrides)


def _tensor(arr, storage, requires_grad, what):
    if requires_grad is not True and requires_grad is not False:
        raise CheckpointError(f"lamina.load: {what}: requires_grad must be a bool, got "
                              f"{requires_grad!r}")
    if requires_grad and arr.dtype.kind != "f":
        raise CheckpointError(f"lamina.load: {what}: a {arr.dtype} tensor cannot require grad")
    return _make(arr, storage.device, requires_grad)


def _storage_np(storage, what):
    if not isinstance(storage, LoadedStorage):
        raise CheckpointError(f"lamina.load: {what} expects a storage as its first argument, "
                              f"got {type(storage).__name__}")
    return storage.np


def _check_metadata(metadata, what):
    if metadata:
        raise CheckpointError(f"lamina.load: {what}: tensor metadata {metadata!r} (conjugate / "
                              f"negative bits) is not supported")


def _rebuild_tensor(storage, storage_offset, size, stride):
    npd = _storage_np(storage, "_rebuild_tensor")
    arr = _view(storage, npd, storage_offset, size, stride, "_rebuild_tensor")
    return _make(arr, storage.device)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    what = "_rebuild_tensor_v2"
    npd = _storage_np(storage, what)
    _check_metadata(metadata, what)
    arr = _view(storage, npd, storage_offset, size, stride, what)
    return _tensor(arr, storage, requires_grad, what)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    what = "_rebuild_tensor_v3"
    _storage_np(storage, what)
    if isinstance(dtype, UnsupportedDtype):
        raise _unsupported_dtype_error(f"dtype torch.{dtype.name}")
    if dtype.__class__ is not D.dtype:
        raise CheckpointError(f"lamina.load: {what}: expected a dtype, got {dtype!r}")
    _check_metadata(metadata, what)
    arr = _view(storage, dtype.np, storage_offset, size, stride, what)
    return _tensor(arr, storage, requires_grad, what)


def _parameter_class():
    from ..nn.parameter import Parameter

    return Parameter


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise CheckpointError(f"lamina.load: _rebuild_parameter expects a tensor, got "
                              f"{type(data).__name__}")
    if requires_grad is not True and requires_grad is not False:
        raise CheckpointError(f"lamina.load: _rebuild_parameter: requires_grad must be a bool, "
                              f"got {requires_grad!r}")
    if requires_grad and data._data.dtype.kind != "f":
        raise CheckpointError(f"lamina.load: a {data._data.dtype} Parameter cannot require grad")
    return _parameter_class()(data, requires_grad)


def _set_state(obj, state, what):
    """torch's _set_obj_state, limited to plain attributes stored in ``obj.__dict__``."""
    if isinstance(state, tuple):
        if len(state) != 2:
            raise CheckpointError(f"lamina.load: {what}: invalid serialized state {state!r}")
        state = state[0] if not state[1] else {**(state[0] or {}), **state[1]}
    if not state:
        return obj
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"lamina.load: {what}: state must be a dict with str keys")
    d = getattr(obj, "__dict__", None)
    if d is None:
        warnings.warn(f"lamina.load: dropped the Python attributes {sorted(state)} of a "
                      f"{type(obj).__name__} (lamina tensors cannot carry attributes)",
                      stacklevel=4)
        return obj
    d.update(state)
    return obj


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    return _set_state(p, state, "_rebuild_parameter_with_state")


def _rebuild_from_type_v2(func, new_type, args, state):
    what = "_rebuild_from_type_v2"
    if func not in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
                    _rebuild_parameter_with_state):
        raise CheckpointError(f"lamina.load: {what} got the function {func!r}; expected one of "
                              f"torch's tensor rebuild functions")
    if not isinstance(args, tuple):
        raise CheckpointError(f"lamina.load: {what}: args must be a tuple")
    ret = func(*args)
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise CheckpointError(f"lamina.load: {what}: {new_type!r} is not a tensor class")
    if type(ret) is not new_type:
        Parameter = _parameter_class()
        if new_type is Parameter:
            ret = Parameter(ret, ret.requires_grad)
        elif new_type is not Tensor:
            from .._tensor import _init, _new

            t = _new(new_type)
            _init(t, ret._data, ret._device, ret.requires_grad)
            ret = t
    return _set_state(ret, state, what)


REBUILD_FUNCTIONS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
                     _rebuild_parameter_with_state, _rebuild_from_type_v2)


def _device(*args):
    """torch.device(...) as pickled: ('cpu',), ('cuda', 1) or ('cuda:1',)."""
    if not 1 <= len(args) <= 2 or not isinstance(args[0], str) or (
            len(args) == 2 and args[1] is not None and not _is_int(args[1])):
        raise CheckpointError(f"lamina.load: invalid torch.device arguments {args!r}")
    try:
        return _device_cls(*args)
    except (RuntimeError, ValueError, TypeError) as e:
        raise CheckpointError(f"lamina.load: invalid torch.device{args!r}: {e}") from None


def _size(*args):
    if len(args) > 1 or (args and not isinstance(args[0], (tuple, list))):
        raise CheckpointError(f"lamina.load: invalid torch.Size arguments {args!r}")
    items = tuple(args[0]) if args else ()
    if not all(_is_int(n) for n in items):
        raise CheckpointError(f"lamina.load: torch.Size holds non-integers: {items!r}")
    return Size(items)


_STORAGE_DTYPES = {
    **{d.storage_type: d.name for d in D.ALL},  # FloatStorage: float32, ...
    "UntypedStorage": "uint8",
    "BFloat16Storage": None, "ComplexFloatStorage": None, "ComplexDoubleStorage": None,
    "QUInt8Storage": None, "QInt8Storage": None, "QInt32Storage": None,
    "QUInt4x2Storage": None, "QUInt2x4Storage": None,
}

_UNSUPPORTED_STORAGE = {
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QUInt8Storage": "quint8", "QInt8Storage": "qint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}

_UNSUPPORTED_DTYPES = (
    "bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
    "uint16", "uint32", "uint64", "int1", "int2", "int3", "int4", "int5", "int6", "int7",
    "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "quint8", "qint8", "qint32",
    "quint4x2", "quint2x4", "float8_e5m2", "float8_e4m3fn", "float8_e5m2fnuz",
    "float8_e4m3fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits1x8", "bits2x4", "bits4x2",
    "bits8", "bits16",
)


def _build_torch_names() -> dict:
    Parameter = _parameter_class()
    t = {
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Size"): _size,
        ("torch", "device"): _device,
        ("torch", "Tensor"): Tensor,
        ("torch.nn.parameter", "Parameter"): Parameter,
    }
    for d in D.ALL:
        t[("torch", d.name)] = d
        t[("torch", d.short_name)] = d  # torch.half, torch.long, ...
    for name in _UNSUPPORTED_DTYPES:
        t[("torch", name)] = UnsupportedDtype(name)
    for name, dt in _STORAGE_DTYPES.items():
        st = StorageType(name, dt)
        t[("torch", name)] = st
        t[("torch.cuda", name)] = st
    t[("torch.storage", "UntypedStorage")] = t[("torch", "UntypedStorage")]
    return t


_TORCH_NAMES = None


def torch_names() -> dict:
    """(module, name) of torch's pickled globals -> the lamina object that replaces it."""
    global _TORCH_NAMES
    if _TORCH_NAMES is None:
        _TORCH_NAMES = _build_torch_names()
    return _TORCH_NAMES


_UNSUPPORTED_TORCH = {
    "_rebuild_sparse_tensor": "sparse tensors",
    "_rebuild_qtensor": "quantized tensors",
    "_rebuild_nested_tensor": "nested tensors",
    "_rebuild_meta_tensor_no_storage": "meta tensors",
    "_rebuild_wrapper_subclass": "tensor wrapper subclasses",
    "_rebuild_device_tensor_from_numpy": "tensors of xla/mps-like devices",
    "_rebuild_device_tensor_from_cpu_tensor": "tensors of xla/mps-like devices",
    "_get_layout": "sparse layouts",
}


def unsupported_torch_global(module: str, name: str) -> str:
    """Why a torch global that lamina does not map cannot be loaded."""
    what = _UNSUPPORTED_TORCH.get(name)
    if what is not None:
        return (f"the checkpoint uses {module}.{name}: lamina does not support {what}; "
                f"expected dense cpu/cuda tensors")
    if module.startswith("torch.nn.modules") or module.startswith("torch.nn."):
        return (f"the checkpoint pickles torch's class {module}.{name} (a whole torch model, "
                f"saved with torch.save(model, ...)); lamina cannot rebuild torch's classes. "
                f"Save model.state_dict() with torch instead and load it with "
                f"model.load_state_dict(lamina.load(path))")
    return (f"the checkpoint uses {module}.{name}, which has no lamina equivalent (lamina never "
            f"imports torch to load a file)")


SAFE_BUILTINS = {
    ("collections", "OrderedDict"): OrderedDict,
    ("collections", "Counter"): Counter,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "slice"): slice,
}


def _bytearray(*args):
    """``bytearray`` as pickles use it: from bytes, or from (latin-1 text, encoding).

    ``bytearray(n)`` is refused: it would let a file allocate n bytes."""
    if not args:
        return bytearray()
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytearray(args[0])
    if len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin1", "latin-1"):
        return bytearray(args[0], "latin-1")
    raise CheckpointError(f"lamina.load: bytearray is allowed only from bytes or latin-1 text; "
                          f"got arguments of types {[type(a).__name__ for a in args]}")


SAFE_BUILTINS[("builtins", "bytearray")] = _bytearray


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: latin-1 text only."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise CheckpointError(f"lamina.load: _codecs.encode is allowed only as encode(str, "
                              f"'latin1'); got encoding {encoding!r}")
    return obj.encode("latin-1")


SAFE_BUILTINS[("_codecs", "encode")] = _codecs_encode
