"""Parameter and Buffer: the Tensor kinds a Module registers by assignment (torch.nn.parameter)."""

from __future__ import annotations

import itertools as _itertools
import weakref as _weakref

import numpy as _np

from .. import _dtype as _D
from .._device import backend, to_device
from .._tensor import Tensor, _init, _make, _new
from ._errors import ModuleInputError

__all__ = [
    "Buffer",
    "Parameter",
    "UninitializedBuffer",
    "UninitializedParameter",
    "UninitializedTensorError",
    "UninitializedTensorMixin",
    "is_lazy",
]


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute.

    It wraps the memory of ``data`` (no copy) and is a leaf of the autograd graph, so its
    ``.grad`` is accumulated by backward. ``requires_grad`` defaults to True, even inside
    ``no_grad()``, as in torch.

    Args:
        data: the tensor whose memory the parameter shares (default: an empty float tensor).
        requires_grad: whether backward accumulates a gradient into ``.grad``.

    Example:
        >>> import lamina as torch
        >>> p = torch.nn.Parameter(torch.zeros(2))
        >>> p.requires_grad, isinstance(p, torch.Tensor)
        (True, True)
    """

    # no __slots__: a Parameter carries a __dict__ for user / lazy-init attributes, like torch's

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a Tensor; expected Tensor or None, got "
                            f"{type(data).__name__}")
        if requires_grad and data._data.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t = _new(cls)
        _init(t, data._data, data._device, bool(requires_grad))
        # an alias of data, like torch's _make_subclass: in-place changes bump the same counter
        object.__setattr__(t, "_version_counter", data._version_counter)
        return t

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        # torch's Parameter.__deepcopy__: data and requires_grad only (no grad, no attributes)
        t = _new(type(self))
        _init(t, self._data.copy(), self._device, self.requires_grad)
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, proto):
        # pickle memoizes by object, so one Parameter used twice in a model stays one object
        return (_rebuild_parameter, (self._numpy_view(), str(self._device), self.requires_grad,
                                     type(self), dict(self.__dict__) or None))


def _rebuild_parameter(arr, dev, requires_grad, cls=Parameter, state=None):
    d = to_device(dev)
    t = _new(cls)
    _init(t, backend(d).from_numpy(_np.array(arr)), d, bool(requires_grad))
    if state:
        t.__dict__.update(state)
    return t


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned as an attribute (torch 2.x).

    Buffers are module state that is not trained (BatchNorm's ``running_mean``). A persistent
    buffer is part of ``state_dict()``; a non-persistent one is not.

    Args:
        data: the tensor whose memory the buffer shares (default: an empty float tensor).
        persistent: whether the buffer is saved in the module's ``state_dict``.
    """

    __slots__ = ("persistent",)

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a Tensor; expected Tensor or None, got "
                            f"{type(data).__name__}")
        t = _new(cls)
        _init(t, data._data, data._device, bool(data.requires_grad))
        object.__setattr__(t, "_version_counter", data._version_counter)
        object.__setattr__(t, "persistent", bool(persistent))
        return t

    def __deepcopy__(self, memo):
        t = Tensor.__deepcopy__(self, memo)
        object.__setattr__(t, "persistent", self.persistent)
        return t

    def __reduce_ex__(self, proto):
        return (_rebuild_buffer, (self._numpy_view(), str(self._device), self.requires_grad,
                                  self.persistent))


def _rebuild_buffer(arr, dev, requires_grad, persistent):
    d = to_device(dev)
    t = _new(Buffer)
    _init(t, backend(d).from_numpy(_np.array(arr)), d, bool(requires_grad))
    object.__setattr__(t, "persistent", persistent)
    return t


def is_lazy(param) -> bool:
    """True for a parameter or buffer whose shape is not known yet (a lazy module's)."""
    # torch: isinstance(param, UninitializedTensorMixin) (the classes are at the end of this
    # file); the plain kinds answer without a walk (load_state_dict asks for every key)
    if type(param) in (Tensor, Parameter, Buffer):
        return False
    for c in type(param).__mro__:
        if c.__name__.startswith("Uninitialized"):
            return True
    return False


# ---------------------------------------------------------------------------- lazy (issue 5)
# The Uninitialized classes hide Tensor's ``_data`` slot behind a property that raises. Every op
# reads ``t._data``, so using a pending tensor anywhere fails with one error that names it, while
# the slot itself keeps an empty placeholder array: the dtype and device the tensor will be
# created with (``module.to(...)`` / ``.double()`` before the first call change the placeholder).
_DATA_SLOT = Tensor.__dict__["_data"]
_slot_get = _DATA_SLOT.__get__
_slot_set = _DATA_SLOT.__set__
_SEQ = _itertools.count()  # orders deferred init calls across all tensors of a module
# id(tensor) -> (weakref to it, _LazyInfo). A side table rather than an attribute because an
# UninitializedBuffer must have Tensor's exact layout (no __dict__) to become a Tensor in place.
_INFO: dict = {}


class _LazyInfo:
    """What a pending tensor knows: its owner module (weakly), its attribute name, the init
    calls recorded before its shape was known and, for a buffer, whether it is persistent."""

    __slots__ = ("_owner", "inits", "name", "persistent")

    def __init__(self, owner=None, name=None, inits=None, persistent=True):
        self._owner = None if owner is None else _weakref.ref(owner)
        self.name = name
        self.inits = [] if inits is None else inits
        self.persistent = persistent

    @property
    def owner(self):
        return None if self._owner is None else self._owner()

    def __reduce__(self):
        return (_LazyInfo, (self.owner, self.name, self.inits, self.persistent))

    def __deepcopy__(self, memo):
        import copy

        owner = self.owner
        # inside a deepcopy of the owner module, memo already maps it to its copy
        new_owner = None if owner is None else memo.get(id(owner))
        return _LazyInfo(new_owner, self.name, copy.deepcopy(self.inits, memo), self.persistent)


def _info(t) -> _LazyInfo | None:
    e = _INFO.get(id(t))
    return e[1] if e is not None and e[0]() is t else None


def _set_info(t, info: _LazyInfo) -> None:
    key = id(t)

    def drop(ref, key=key):
        e = _INFO.get(key)
        if e is not None and e[0] is ref:
            del _INFO[key]

    _INFO[key] = (_weakref.ref(t, drop), info)


def _pop_info(t) -> _LazyInfo | None:
    info = _info(t)
    if info is not None:
        del _INFO[id(t)]
    return info


def _placeholder(dev, npdtype):
    return backend(dev).xp.empty((0,), npdtype)


class UninitializedTensorError(ModuleInputError, ValueError):
    """A pending (lazy, not yet materialized) parameter or buffer was used.

    The message names the tensor's path (``'net.0.weight'`` when the access happened inside a
    module call: each enclosing ``Module.__call__`` completes the path as the error travels up,
    else the attribute name), its owner and what its shape waits for. It is a ``ValueError``
    like torch's error for the same mistake, and a ``RuntimeError`` like lamina's state errors.
    """

    def __init__(self, tensor):
        info = _info(tensor)
        kind = type(tensor).__name__
        self.tensor_kind = "UninitializedTensor" if kind.startswith("_") else kind
        self.module = None if info is None else info.owner
        self.name = None if info is None else info.name
        self.path = None
        self.what = ""
        Exception.__init__(self, self._text())

    def _text(self) -> str:
        m = self.module
        if m is None:
            return (f"an {self.tensor_kind} is not materialized yet: its shape is not known; "
                    "call .materialize(shape) first (in a lazy module: run a forward pass or "
                    "lamina.nn.utils.materialize(model, ...))")
        where = f"{self.path}.{self.name}" if self.path else self.name
        short = getattr(m, "_lazy_short_repr", None)
        short = short() if short is not None else f"{type(m).__name__}()"
        waits = getattr(m, "_lazy_waits_for", None)
        waits = waits() if waits is not None else "the input of its first call"
        return (f"'{where}' of {short} is not materialized yet (its shape waits for {waits}): "
                "run a forward pass or lamina.nn.utils.materialize(model, ...) first")


def _pending(self):
    raise UninitializedTensorError(self)


class _TensorMethod:
    """A deferred in-place Tensor method (``p.normal_(0, 0.01)`` on a pending parameter):
    replayed as ``getattr(tensor, name)(*args, **kwargs)``. Picklable, unlike a lambda."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __call__(self, tensor, *args, **kwargs):
        return getattr(tensor, self.name)(*args, **kwargs)

    def __reduce__(self):
        return (_TensorMethod, (self.name,))

    def __repr__(self) -> str:
        return f"Tensor.{self.name}"


def _deferred_method(name: str):
    fn = _TensorMethod(name)

    def method(self, *args, **kwargs):
        return self._defer_init(fn, args, kwargs)

    method.__name__ = name
    method.__doc__ = f"Recorded now, run as ``tensor.{name}(...)`` once the shape is known."
    return method


def _converting_method(name: str):
    def method(self, *args, **kwargs):
        out = getattr(Tensor, name)(_make(_slot_get(self), self._device), *args, **kwargs)
        return self._converted(out) if isinstance(out, Tensor) else out

    method.__name__ = name
    method.__doc__ = (f"``Tensor.{name}`` applied to the placeholder: what ``Module.{name}`` "
                      "needs to move or cast a pending tensor.")
    return method


class UninitializedTensorMixin:
    """The behaviour shared by UninitializedParameter and UninitializedBuffer
    (torch.nn.parameter.UninitializedTensorMixin)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    _data = property(_pending, _slot_set)

    @property
    def data(self):
        # a detached stand-in sharing this tensor's record: ``p.data.normal_(0, 0.02)`` (the
        # classic init idiom) is recorded like ``p.normal_``; reading values still raises
        t = _new(_PendingData)
        _init(t, _slot_get(self), self._device, False)
        info = _info(self)
        if info is None:
            info = _LazyInfo()
            _set_info(self, info)
        _set_info(t, info)
        return t

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        _slot_set(self, value._data)
        self._device = value._device

    @property
    def dtype(self):
        return _D._FROM_NP[_slot_get(self).dtype]

    @property
    def shape(self):
        raise UninitializedTensorError(self)

    def size(self, dim=None):
        raise UninitializedTensorError(self)

    @property
    def ndim(self):
        raise UninitializedTensorError(self)

    def numel(self) -> int:
        """0: a pending tensor holds no elements yet (lamina's choice, so that
        ``sum(p.numel() for p in model.parameters())`` works before the first call; torch
        raises). ``lamina.nn.utils.materialize`` makes the count final."""
        return 0

    nelement = numel

    def is_floating_point(self) -> bool:
        return _slot_get(self).dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return _slot_get(self).itemsize

    def get_device(self) -> int:
        return -1 if self._device.type == "cpu" else self._device.index

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        if value and _slot_get(self).dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True):
        self.requires_grad = requires_grad
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    # Module.to / cuda / cpu / float / double / half / type on a pending tensor
    to = _converting_method("to")
    cpu = _converting_method("cpu")
    cuda = _converting_method("cuda")
    type = _converting_method("type")
    float = _converting_method("float")
    double = _converting_method("double")
    half = _converting_method("half")

    # in-place initializers on a pending tensor are recorded and replayed once it is shaped
    uniform_ = _deferred_method("uniform_")
    normal_ = _deferred_method("normal_")
    zero_ = _deferred_method("zero_")
    fill_ = _deferred_method("fill_")

    def _defer_init(self, fn, args: tuple, kwargs: dict):
        """Record ``fn(self, *args, **kwargs)`` (an ``nn.init`` function or an in-place init
        method) to run once the shape is known, right after the owner's default
        ``reset_parameters``; calls are replayed in the order they were made. Returns self."""
        info = _info(self)
        if info is None:
            info = _LazyInfo()
            _set_info(self, info)
        info.inits.append((next(_SEQ), fn, tuple(args), dict(kwargs)))
        return self

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the tensor its shape: it becomes a ``cls_to_become`` (Parameter / Tensor) in
        place, keeping its identity (optimizers and ties hold the same object), filled with
        zeros, on the placeholder's device and dtype unless given.

        Init calls recorded on a tensor that no module owns are replayed here; an owning lazy
        module replays them itself, after its ``reset_parameters``.
        """
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(int(s) for s in shape)
        ph = _slot_get(self)
        dev = self._device if device is None else to_device(device)
        npdtype = ph.dtype if dtype is None else _D.to_dtype(dtype).np
        arr = backend(dev).xp.zeros(shape, npdtype)
        info = _pop_info(self)
        _slot_set(self, arr)
        self._device = dev
        self.__class__ = self.cls_to_become
        if info is not None and info.inits and info.owner is None:
            _replay([(rec, self) for rec in info.inits])

    def _claim(self, owner, name: str) -> None:
        """Record the module and attribute name that own this tensor (for error messages)."""
        info = _info(self)
        if info is None:
            _set_info(self, _LazyInfo(owner, name))
        else:
            info._owner = _weakref.ref(owner)
            info.name = name

    def _converted(self, out: Tensor):
        return out

    def __deepcopy__(self, memo):
        import copy

        if id(self) in memo:
            return memo[id(self)]
        t = _new(type(self))
        _init(t, _slot_get(self), self._device, self._requires_grad)
        memo[id(self)] = t
        info = _info(self)
        if info is not None:
            _set_info(t, copy.deepcopy(info, memo))
        return t

    def __reduce_ex__(self, proto):
        ph = _slot_get(self)
        return (_rebuild_uninitialized, (type(self), str(self._device), ph.dtype.name,
                                         self._requires_grad, _info(self)))



def _rebuild_uninitialized(cls, dev, dtype_name, requires_grad, info):
    d = to_device(dev)
    t = _new(cls)
    _init(t, _placeholder(d, _np.dtype(dtype_name)), d, bool(requires_grad))
    if info is not None:
        _set_info(t, info)
    return t


def _replay(records) -> None:
    """Run recorded init calls ``((seq, fn, args, kwargs), tensor)`` in the order made."""
    from ..autograd.grad_mode import no_grad

    records.sort(key=lambda r: r[0][0])
    with no_grad():
        for (_, fn, args, kwargs), t in records:
            try:
                fn(t, *args, **kwargs)
            except Exception as e:
                name = getattr(fn, "__qualname__", None) or repr(fn)
                e.add_note(f"(while replaying {name}{_call_args(args, kwargs)}, recorded on a "
                           f"lazy tensor before its shape {tuple(_slot_get(t).shape)} was known)")
                raise


def _call_args(args, kwargs) -> str:
    parts = ["tensor"] + [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _new_uninitialized(cls, requires_grad, device, dtype):
    dev = to_device(device)
    dt = _D.get_default_dtype() if dtype is None else _D.to_dtype(dtype)
    if requires_grad and not dt.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    t = _new(cls)
    _init(t, _placeholder(dev, dt.np), dev, bool(requires_grad))
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet: what a lazy module holds before its first
    call (torch.nn.UninitializedParameter).

    It has a dtype, a device and ``requires_grad``, but no shape or data: using its values
    raises :class:`UninitializedTensorError` naming its module and what it waits for;
    ``numel()`` is 0. ``nn.init`` functions and the in-place initializers (``uniform_``,
    ``normal_``, ``zero_``, ``fill_``) called on it are recorded and replayed once it has a
    shape. ``materialize(shape)`` turns it into a :class:`Parameter` in place.

    Args:
        requires_grad: whether the materialized parameter requires grad.
        device, dtype: where and in what dtype it will be created.

    Example:
        >>> import lamina as torch
        >>> p = torch.nn.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__, tuple(p.shape)
        ('Parameter', (2, 3))
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return _new_uninitialized(cls, requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (torch.nn.UninitializedBuffer); it becomes a
    plain Tensor in place with ``materialize(shape)``. See :class:`UninitializedParameter`.

    Args:
        requires_grad: whether the materialized tensor requires grad.
        device, dtype: where and in what dtype it will be created.
        persistent: whether the buffer belongs in ``state_dict`` when it is assigned to a lazy
            module's attribute.
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        t = _new_uninitialized(cls, requires_grad, device, dtype)
        if not persistent:
            _set_info(t, _LazyInfo(persistent=False))
        return t

    def _converted(self, out: Tensor):
        # Module._apply replaces buffers with fn(buffer): stay pending (and owned)
        t = _new(type(self))
        _init(t, out._data, out._device, self._requires_grad)
        info = _info(self)
        if info is not None:
            _set_info(t, _LazyInfo(info.owner, info.name, list(info.inits), info.persistent))
        return t


class _PendingData(UninitializedTensorMixin, Tensor):
    """What ``.data`` of a pending tensor returns: no values, but the init calls made on it
    are recorded for (and later replayed on) the tensor it came from."""

    __slots__ = ()
    cls_to_become = Tensor

    def __repr__(self) -> str:
        return "<UninitializedTensor>"

    __str__ = __repr__

    def materialize(self, shape, device=None, dtype=None) -> None:
        raise RuntimeError("materialize the parameter itself, not its .data; expected "
                           "param.materialize(shape), got param.data.materialize(shape)")

    def _defer_init(self, fn, args: tuple, kwargs: dict):
        info = _info(self)
        info.inits.append((next(_SEQ), fn, tuple(args), dict(kwargs)))
        return self
