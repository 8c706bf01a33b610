"""Parameter and Buffer: the Tensor kinds a Module registers by assignment (torch.nn.parameter)."""

from __future__ import annotations

import numpy as _np

from .._device import backend, to_device
from .._tensor import Tensor, _init, _new

__all__ = ["Parameter", "Buffer", "is_lazy"]


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
        object.__setattr__(t, "_vc", data._vc)
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
        object.__setattr__(t, "_vc", data._vc)
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
    # torch: isinstance(param, UninitializedTensorMixin); the lazy classes live in lamina.nn.lazy
    for c in type(param).__mro__:
        if c.__name__.startswith("Uninitialized"):
            return True
    return False
