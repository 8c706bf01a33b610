"""The Op base class: one differentiable op = forward and backward on backend arrays."""

from __future__ import annotations

from .._tensor import Tensor, _make, _type_str
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node


class Op:
    """Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, staticmethods.

    ``apply(*args)`` accepts Tensors and plain values; forward receives each Tensor's array in
    its place. A graph node is built only when grad mode is on and an input requires grad.
    """

    node_name = "Backward0"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "node_name" not in cls.__dict__:
            cls.node_name = cls.__name__ + "Backward0"

    @classmethod
    def apply(cls, *args):
        dev = None
        req = False
        n = len(args)
        arrs = list(args)
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor):
                arrs[i] = a._data
                d = a._device
                if dev is None:
                    dev = d
                elif d is not dev:
                    _device_mismatch(cls, dev, d, i)
                if a.requires_grad:
                    req = True
        b = dev._backend
        if b is None:
            from .._device import backend

            b = backend(dev)
        ctx = Node(cls, b.xp)
        if req and STATE.enabled:
            nxt = [None] * n
            nig = [False] * n
            for i in range(n):
                a = args[i]
                if isinstance(a, Tensor) and a.requires_grad:
                    nig[i] = True
                    g = a.grad_fn
                    nxt[i] = a if g is None else (g, a._out)
            ctx.needs_input_grad = nig
            ctx.next = nxt
            out = cls.forward(ctx, *arrs)
            if out.__class__ is tuple:
                ctx.n_out = len(out)
                res = tuple(_make(o, dev, True, ctx, k) for k, o in enumerate(out))
            else:
                res = _make(out, dev, True, ctx, 0)
            if ctx.saved:
                _record_versions(ctx, args, arrs, res)
            return res
        out = cls.forward(ctx, *arrs)
        if out.__class__ is tuple:
            return tuple(_make(o, dev) for o in out)
        return _make(out, dev)

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError


def _record_versions(ctx, args, arrs, res):
    """Remember the versions of the tensors whose arrays were saved, inputs and outputs, so
    that backward detects an in-place change of them (torch's version counter check)."""
    vs = []
    outs = res if res.__class__ is tuple else (res,)
    for s in ctx.saved:
        for i, a in enumerate(arrs):
            if s is a and a is not args[i]:
                t = args[i]
                g = t.grad_fn
                vs.append((t._vc, t._vc[0], s, None if g is None else (g.op.node_name, t._out)))
                break
        else:
            for k, t in enumerate(outs):
                if s is t._data:
                    vs.append((t._vc, 0, s, (ctx.op.node_name, k)))
                    break
    if vs:
        ctx._versions = vs


def _device_mismatch(op, d1, d2, i):
    raise RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{d1} and {d2}! (when checking argument {i} of {op.__name__.lower()})")


def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the one place that un-broadcasts)."""
    gs = g.shape
    if gs == shape:
        return g
    nd = len(gs) - len(shape)
    if nd:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


__all__ = ["Op", "sum_to_shape", "Tensor", "_type_str"]
