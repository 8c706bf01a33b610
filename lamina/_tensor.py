"""Tensor: one backend array plus autograd fields. Methods and dunders call ops/."""

from __future__ import annotations

import numpy as _np

from . import _dtype as D
from ._device import CPU, backend, device, to_device
from .autograd.grad_mode import STATE

_FROM_NP = D._FROM_NP
_FLOAT_ONLY = "only Tensors of floating point and complex dtype can require gradients"


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``lamina.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"lamina.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, k):
        r = tuple.__getitem__(self, k)
        return Size(r) if isinstance(k, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


_new = object.__new__


class Tensor:
    """A multi-dimensional array on a device, with autograd.

    ``lamina.Tensor(data)`` / ``lamina.Tensor(2, 3)`` follow torch's legacy constructor (a
    float tensor); prefer ``lamina.tensor(data)``.
    """

    # _version_counter: the version counter, a 1-element list shared by a tensor and its views;
    # _base / _view_fn: for a view, the tensor it views and a function mapping the base's
    # array to this view's array (lets an in-place op on the view rewrite the base's history)
    __slots__ = (
        "__weakref__",
        "_base",
        "_data",
        "_device",
        "_grad",
        "_hooks",
        "_out",
        "_requires_grad",
        "_version_counter",
        "_view_fn",
        "grad_fn",
    )
    __array_priority__ = 1000  # make ndarray <op> Tensor defer to Tensor's reflected dunder

    def __new__(cls, *args, device=None, dtype=None):
        from ._creation import _legacy_new

        data = _legacy_new(args, device, dtype)
        t = _new(cls)
        _init(t, data._data, data._device, False)
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def dtype(self):
        return _FROM_NP[self._data.dtype]

    @property
    def device(self) -> device:
        return self._device

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def is_xpu(self) -> bool:
        return False

    @property
    def is_mps(self) -> bool:
        return False

    @property
    def layout(self):
        return "torch.strided"

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def get_device(self) -> int:
        return -1 if self._device.type == "cpu" else self._device.index

    def stride(self, dim=None):
        isz = self._data.itemsize
        st = tuple(s // isz for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        a = self._data
        if self._device.type == "cpu":
            return a.__array_interface__["data"][0]
        return int(a.data.ptr)

    def untyped_storage(self):  # minimal: what code uses to compare sharing
        return _Storage(self)

    # ------------------------------------------------------------------ .data
    @property
    def data(self) -> Tensor:
        """The same memory, detached from autograd (in-place changes through it bypass it)."""
        return _make(self._data, self._device)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    @property
    def T(self) -> Tensor:
        from .ops.shape import permute

        return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:
        return self.T

    # ------------------------------------------------------------------ conversions
    def item(self):
        a = self._data
        if a.size != 1:
            raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
        return a.reshape(()).item() if self._device.type == "cpu" else a.item()

    def tolist(self):
        return self._numpy_view().tolist()

    def numpy(self, *, force: bool = False):
        if not force:
            if self._device.type != "cpu":
                raise TypeError(
                    f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() "
                    f"to copy the tensor to host memory first.")
            if self.requires_grad and STATE.enabled is not None:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            return self._data
        return self._numpy_view()

    def _numpy_view(self):
        return backend(self._device).to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self._numpy_view()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        a = self._data
        if a.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(a.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._formatting import format_tensor

        suffixes = []
        if self._device.type != "cpu":
            suffixes.append(f"device='{self._device}'")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._numpy_view(), self.dtype.name, suffixes,
                             default_dtype_name=D.get_default_dtype().name)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        # pickling (copy.deepcopy goes through __deepcopy__): data as numpy, device by name
        return (_rebuild, (self._numpy_view(), str(self._device), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        t = _new(type(self))
        _init(t, self._data.copy(), self._device, self.requires_grad)
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        d = getattr(self, "__dict__", None)
        memo[id(self)] = t
        if d:
            import copy

            t.__dict__.update(copy.deepcopy(d, memo))
        return t

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        if gradient is None and inputs is None and not create_graph and self._requires_grad \
                and self._data.size == 1:
            # the common `loss.backward()`: skip the general argument handling
            d = self._data
            key = (self._device, d.dtype, d.shape)
            one = _ONES.get(key)
            if one is None:
                b = self._device._backend or backend(self._device)
                one = _ONES[key] = b.xp.ones(d.shape, d.dtype)
            # a fresh copy each time: the engine may keep the seed as a leaf's .grad
            _engine().run_backward([(self, one.copy())], bool(retain_graph))
            return
        from .autograd import backward as _bw

        _bw(self, gradient, retain_graph, create_graph, inputs=inputs)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "f":
            # (torch's method and attribute paths word this differently)
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad) or self.grad_fn is not None
        return self

    # requires_grad and grad are validated on assignment; the values live in slots _requires_grad, _grad
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(_FLOAT_ONLY)
        self._requires_grad = bool(value)

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value._data.shape)}' to a tensor of size "
                                   f"'{list(self._data.shape)}'. Please ensure that the gradient "
                                   f"and the tensor are the same size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if getattr(self.grad_fn, "_retains", None) is None:
            self.grad_fn._retains = {}
        if self._out in self.grad_fn._retains:
            return
        import weakref

        ref = weakref.ref(self)
        self.grad_fn._retains[self._out] = True

        def hook(g):
            t = ref()
            if t is not None:
                gd = g._data.copy()
                if t.grad is None:
                    t._grad = _make(gd, t._device)
                else:
                    t.grad._data += gd

        hook._retains_grad = True  # runs after the user's hooks (torch 2's order)
        self.grad_fn._add_pre_hook(self._out, hook)

    @property
    def retains_grad(self) -> bool:
        r = getattr(self.grad_fn, "_retains", None) if self.grad_fn is not None else None
        return bool(r and self._out in r)

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, called with the gradient of this tensor."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._out, hook)
        from .autograd.graph import _RemovableHook

        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor), called after this leaf's ``.grad`` was updated by a backward pass."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.engine import _PostAccumulate
        from .autograd.graph import _RemovableHook

        if self._hooks is None:
            self._hooks = []
        h = _PostAccumulate(hook)
        self._hooks.append(h)
        return _RemovableHook(self._hooks, h)

    def detach(self) -> Tensor:
        t = _make(self._data, self._device)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        object.__setattr__(self, "grad_fn", None)
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs) -> Tensor:
        dev, dt, copy = _parse_to(args, kwargs)
        return _to(self, dev, dt, copy)

    def cpu(self) -> Tensor:
        return _to(self, CPU, None, False)

    def cuda(self, device=None, non_blocking=False) -> Tensor:
        if device is None:
            dev = to_device("cuda")
        elif isinstance(device, int):
            dev = to_device(f"cuda:{device}")
        else:
            dev = to_device(device)
        return _to(self, dev, None, False)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return _type_str(self._data, self._device)
        if isinstance(dtype, str) and dtype in _LEGACY_TYPES:
            dtype = _LEGACY_TYPES[dtype]
        return _to(self, None, D.to_dtype(dtype), False)

    def type_as(self, other: Tensor) -> Tensor:
        return _to(self, None, other.dtype, False)

    def float(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.float32, False)

    def double(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.float64, False)

    def half(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.float16, False)

    def bfloat16(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.to_dtype(D.bfloat16), False)  # raises: see lamina.bfloat16

    def long(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.int64, False)

    def int(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.int32, False)

    def short(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.int16, False)

    def char(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.int8, False)

    def byte(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.uint8, False)

    def bool(self, *, memory_format=None) -> Tensor:
        return _to(self, None, D.bool, False)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                   pin_memory=False):
        from ._creation import _no_pin, tensor

        _no_pin(pin_memory)
        return tensor(data, dtype=dtype or self.dtype, device=device or self._device,
                      requires_grad=requires_grad)

    def _new_filled(self, fn, args, size, dtype, device, requires_grad, pin_memory):
        from ._creation import _no_pin, _size_arg

        _no_pin(pin_memory)
        size = _size_arg(args, size, fn.__name__)
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        return fn(*size, dtype=dtype or self.dtype, device=device or self._device,
                  requires_grad=requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
        from ._creation import zeros

        return self._new_filled(zeros, args, size, dtype, device, requires_grad, pin_memory)

    def new_ones(self, *args, size=None, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False):
        from ._creation import ones

        return self._new_filled(ones, args, size, dtype, device, requires_grad, pin_memory)

    def new_empty(self, *args, size=None, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
        from ._creation import empty

        return self._new_filled(empty, args, size, dtype, device, requires_grad, pin_memory)

    def new_full(self, size, fill_value, *, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False):
        from ._creation import _no_pin, full

        _no_pin(pin_memory)
        return full(tuple(size), fill_value, dtype=dtype or self.dtype,
                    device=device or self._device, requires_grad=requires_grad)


class _Storage:
    """Just enough of torch's UntypedStorage to compare data_ptr() and size."""

    __slots__ = ("_arr",)

    def __init__(self, t):
        a = t._data
        while a.base is not None and hasattr(a.base, "shape"):
            a = a.base
        self._arr = a

    def data_ptr(self) -> int:
        a = self._arr
        return a.__array_interface__["data"][0] if hasattr(a, "__array_interface__") else \
            int(a.data.ptr)

    def nbytes(self) -> int:
        return int(self._arr.nbytes)

    size = nbytes


def _init(t, data, dev, requires_grad):
    t._data = data
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = None
    t._out = 0
    t._version_counter = [0]
    t._hooks = None
    t._base = None
    t._view_fn = None


def _make(data, dev=CPU, requires_grad=False, grad_fn=None, out=0):
    """Wrap a backend array (internal; no copy, no checks)."""
    t = _new(Tensor)
    t._data = data
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = grad_fn
    t._out = out
    t._version_counter = [0]
    t._hooks = None
    t._base = None
    t._view_fn = None
    return t


_object_setattr = object.__setattr__


def _wrap(array, device=None) -> Tensor:
    """Wrap a NumPy (cpu) or CuPy (cuda) array as a Tensor without copying."""
    return _make(array, CPU if device is None else to_device(device))


def _rebuild(arr, dev, requires_grad):
    d = to_device(dev)
    t = _make(backend(d).from_numpy(_np.array(arr)), d)
    if requires_grad:
        t._requires_grad = True
    return t


def _wrap_dim(dim, ndim):
    if dim < -max(ndim, 1) or dim >= max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
    return dim + ndim if dim < 0 else dim


_LEGACY_TYPES = {}
for _d in D.ALL:
    _LEGACY_TYPES["torch." + _d.tensor_type] = _d
    _LEGACY_TYPES["lamina." + _d.tensor_type] = _d


def _type_str(arr, dev=None) -> str:
    name = _FROM_NP[arr.dtype].tensor_type
    if dev is not None and dev.type == "cuda":
        return "torch.cuda." + name
    return "torch." + name


def _parse_to(args, kwargs):
    dev = dt = None
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in list(args) + [kwargs.pop("device", None), kwargs.pop("dtype", None)]:
        if a is None:
            continue
        if isinstance(a, Tensor):
            dev, dt = a._device, a.dtype
        elif isinstance(a, D.dtype):
            dt = D.to_dtype(a)  # refuses lamina.bfloat16 with its reason
        elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
            dev = to_device(a)
        elif a in (float, int, bool) or isinstance(a, _np.dtype) or isinstance(a, type):
            dt = D.to_dtype(a)
        elif isinstance(a, bool):
            continue  # positional non_blocking
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    return dev, dt, copy


def _to(t: Tensor, dev, dt, copy: bool) -> Tensor:
    """Tensor.to: returns self when nothing changes (and copy is False), like torch."""
    if dev is not None and dev is not t._device and dev != t._device:
        from .ops.cast import ToDevice

        t = ToDevice.apply(t, dev)
        copy = False
    if dt is not None and dt.np != t._data.dtype:
        from .ops.cast import Cast

        return Cast.apply(t, dt.np)
    if copy:
        return t.clone()
    return t


_ENGINE = []
# the seeds of `loss.backward()`: one 1-element array of ones per (device, dtype, shape),
# copied per call (xp.ones is a Python-level function in NumPy, copy is one C call)
_ONES: dict = {}


def _engine():
    """The autograd engine module (imported on first use: it imports this module)."""
    if not _ENGINE:
        from .autograd import engine

        _ENGINE.append(engine)
    return _ENGINE[0]

