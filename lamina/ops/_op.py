"""The Op base class: one differentiable op = forward and backward on backend arrays."""

from __future__ import annotations

from .._tensor import Tensor, _make, _type_str
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node

_new = object.__new__
_NAMED: dict = {}  # (op class, node name) -> the variant Op.named made


class Op:
    """Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, staticmethods.

    ``apply(*args)`` accepts Tensors and plain values; forward receives each Tensor's array in
    its place. A graph node is built only when grad mode is on and an input requires grad.
    """

    node_name = "Backward0"
    _node = Node
    # a second backward through a node whose saved arrays were freed raises (torch's error)
    check_freed = True

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "node_name" not in cls.__dict__:
            cls.node_name = cls.__name__ + "Backward0"
        # one Node subclass per op, named like torch's: type(t.grad_fn).__name__ == "AddBackward0"
        cls._node = type(cls.node_name, (Node,), {"__slots__": (), "__module__": "lamina.autograd"})

    @classmethod
    def named(cls, node_name):
        """This op with its graph node called ``node_name``: the same forward and backward.

        torch names a node after the kernel a call dispatched to, so one op shows several
        names (``x.sum()`` gives ``SumBackward0``, ``x.sum(0)`` ``SumBackward1``). The variant
        is made once per name and cached; bind it at import (``_SUM_DIM =
        Sum.named("SumBackward1")``) and its ``apply`` costs exactly what ``Sum.apply`` does.
        """
        if node_name == cls.node_name:
            return cls
        key = (cls, node_name)
        v = _NAMED.get(key)
        if v is None:
            v = _NAMED[key] = type(cls.__name__, (cls,), {
                "node_name": node_name, "__module__": cls.__module__,
                "__qualname__": f"{cls.__qualname__}.named({node_name!r})"})
        return v

    @classmethod
    def apply(cls, *args):
        # the hot path of every op: locals only, no helper calls unless something is unusual
        dev = None
        req = None  # positions of the inputs that require grad
        arrs = []
        push = arrs.append
        for a in args:
            if isinstance(a, Tensor):
                d = a._device
                if dev is None:
                    dev = d
                elif d is not dev:
                    _device_mismatch(cls, dev, d, len(arrs))
                if a._rg:
                    if req is None:
                        req = [len(arrs)]
                    else:
                        req.append(len(arrs))
                push(a._data)
            else:
                push(a)
        b = dev._backend
        if b is None:
            from .._device import backend

            b = backend(dev)
        # the node is built without a call to Node.__init__ (a measurable share of a tiny op)
        ctx = _new(cls._node)
        ctx.op = cls
        ctx.xp = b.xp
        ctx.device = dev
        ctx.saved = ()
        if req is not None and STATE.enabled:
            n = len(args)
            nig = [False] * n
            nxt = [None] * n
            for i in req:
                a = args[i]
                nig[i] = True
                g = a.grad_fn
                nxt[i] = a if g is None else (g, a._out)
            ctx.needs_input_grad = nig
            ctx.next = nxt
            out = cls.forward(ctx, *arrs)
            if out.__class__ is not b.array_type:
                out = _fix_out(out, b)
            if out.__class__ is tuple:
                ctx.n_out = len(out)
                # the engine fills outputs that got no gradient with zeros of these shapes
                ctx._out_shapes = [(o.shape, o.dtype) for o in out]
                res = tuple(_make(o, dev, True, ctx, k) for k, o in enumerate(out))
            else:
                res = _make(out, dev, True, ctx, 0)
            if ctx.saved:
                _record_versions(ctx, args, res)
            return res
        ctx.needs_input_grad = None
        ctx.next = ()
        out = cls.forward(ctx, *arrs)
        if out.__class__ is not b.array_type:
            out = _fix_out(out, b)
            if out.__class__ is tuple:
                return tuple(_make(o, dev) for o in out)
        return _make(out, dev)

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError


def _fix_out(out, b):
    """NumPy reductions return scalars (np.float32), not 0-d arrays: a tensor always holds an
    array (writeable, with .flags / .base), so scalars become 0-d arrays."""
    if out.__class__ is tuple:
        return tuple(o if o.__class__ is b.array_type else b.xp.asarray(o) for o in out)
    return b.xp.asarray(out)


def _record_versions(ctx, args, res):
    """Remember the versions of the tensors whose arrays were saved, inputs and outputs, so
    that backward detects an in-place change of them (torch's version counter check).

    Each entry is (counter, version, array, who): ``who`` is the input Tensor (its grad_fn at
    error time names it) or (node class, k) for this op's own output k (the class, not the
    node: the node holding itself would be a reference cycle that only the GC frees).
    """
    vs = []
    for s in ctx.saved:
        if s is None:
            continue
        for t in args:
            if t.__class__ is not Tensor and not isinstance(t, Tensor):
                continue
            if t._data is s:
                vc = t._vc
                vs.append((vc, vc[0], s, t))
                break
        else:
            if res.__class__ is tuple:
                for k, t in enumerate(res):
                    if s is t._data:
                        vs.append((t._vc, 0, s, (type(ctx), k)))
                        break
            elif s is res._data:
                vs.append((res._vc, 0, s, (type(ctx), 0)))
    if vs:
        ctx._versions = vs


_osa = object.__setattr__


def as_view(out, src, fn):
    """Mark ``out``, the result of a view op on ``src``, as a view of it.

    The two share one version counter (an in-place change through either is seen by
    backward), and ``out`` remembers its root base plus ``fn``, a function from the base's
    array to this view's array, so an in-place op on the view can rewrite the base's history
    (torch's CopySlices). ``fn`` is None for views that cannot be written (``expand``).
    """
    _osa(out, "_vc", src._vc)
    base = src._base
    if base is None:
        _osa(out, "_base", src)
        _osa(out, "_view_fn", fn)
    else:
        prev = src._view_fn
        _osa(out, "_base", base)
        _osa(out, "_view_fn", None if prev is None or fn is None else _compose(prev, fn))
    return out


def _compose(f, g):
    return lambda a: g(f(a))


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


__all__ = ["Op", "Tensor", "_type_str", "as_view", "sum_to_shape"]
