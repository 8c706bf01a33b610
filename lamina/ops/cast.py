"""Casts and device copies: the ``ToCopyBackward0`` nodes of ``Tensor.to``."""

from __future__ import annotations

from .._device import backend, to_device
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from ._op import Op


class Cast(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, npdtype):
        ctx.src = x.dtype
        return x.astype(npdtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


class ToDevice(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dev):
        src = _device_of_array(x)
        ctx.src = src
        return backend(dev).from_numpy(backend(src).to_numpy(x))

    @staticmethod
    def backward(ctx, g):
        return backend(ctx.src).from_numpy(_to_numpy(g)), None

    @classmethod
    def apply(cls, x, dev):
        # the output lives on `dev`, unlike every other op: build the node by hand
        dev = to_device(dev)
        if dev.type == "meta":
            raise RuntimeError("lamina has no meta tensors; use lazy modules to defer shapes")
        src = x._device
        out = backend(dev).from_numpy(backend(src).to_numpy(x._data))
        if x.requires_grad and STATE.enabled:
            ctx = cls._node(cls, backend(dev).xp)
            ctx.src = src
            ctx.needs_input_grad = [True, False]
            ctx.next = [x if x.grad_fn is None else (x.grad_fn, x._out), None]
            return _make(out, dev, True, ctx, 0)
        return _make(out, dev)


def _to_numpy(a):
    return a.get() if hasattr(a, "get") else a


def _device_of_array(a):
    from .._device import CPU, device

    if hasattr(a, "device") and hasattr(a.device, "id"):
        return device("cuda", a.device.id)
    return CPU


def cast(x: Tensor, dt) -> Tensor:
    if x._data.dtype == dt.np:
        return x
    return Cast.apply(x, dt.np)
