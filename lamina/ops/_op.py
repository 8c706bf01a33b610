"""The Op base class: one differentiable op = forward and backward on backend arrays."""

from __future__ import annotations

from .._device import backend
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
    # None, or a function of forward's arguments (arrays in place of Tensors) that returns
    # forward's result: apply / apply2 call it, with no ctx, when no node is recorded (no_grad,
    # or no input requires grad). A subclass that defines its own forward does not inherit it.
    unrecorded = None

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "node_name" not in cls.__dict__:
            cls.node_name = cls.__name__ + "Backward0"
        # one Node subclass per op, named like torch's: type(t.grad_fn).__name__ == "AddBackward0"
        cls._node = type(cls.node_name, (Node,), {"__slots__": (), "__module__": "lamina.autograd"})
        if "forward" in cls.__dict__ and "unrecorded" not in cls.__dict__:
            cls.unrecorded = None

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
        rg = False  # does an input require grad
        arrs = []
        push = arrs.append
        for a in args:
            if a.__class__ is Tensor or isinstance(a, Tensor):
                d = a._device
                if d is not dev:
                    if dev is not None:
                        _device_mismatch(cls, dev, d, len(arrs))
                    dev = d
                if a._requires_grad:
                    rg = True
                push(a._data)
            else:
                push(a)
        b = dev._backend or backend(dev)
        if rg and STATE.enabled:
            # the node is built without a call to Node.__init__ (a measurable share of a tiny op)
            ctx = _new(cls._node)
            ctx.op = cls
            ctx.xp = b.xp
            ctx.device = dev
            ctx.saved = ()
            nig = []
            nxt = []
            for a in args:
                if (a.__class__ is Tensor or isinstance(a, Tensor)) and a._requires_grad:
                    nig.append(True)
                    g = a.grad_fn
                    nxt.append(a if g is None else (g, a._out))
                else:
                    nig.append(False)
                    nxt.append(None)
            ctx.needs_input_grad = nig
            ctx.next = nxt
            return _recorded(ctx, cls.forward(ctx, *arrs), b, dev, args)
        f = cls.unrecorded
        out = f(*arrs) if f is not None else cls.forward(cls._node(cls, b.xp, dev), *arrs)
        if out.__class__ is b.array_type:
            return _make(out, dev)
        return _unrecorded(out, b, dev)

    @classmethod
    def apply2(cls, x, y):
        """``apply(x, y)`` for two Tensors (the binary operators' path): the same node and
        result, without the general argument loop."""
        dev = x._device
        if y._device is not dev:
            _device_mismatch(cls, dev, y._device, 1)
        b = dev._backend or backend(dev)
        rx = x._requires_grad
        ry = y._requires_grad
        if (rx or ry) and STATE.enabled:
            ctx = _new(cls._node)
            ctx.op = cls
            ctx.xp = b.xp
            ctx.device = dev
            ctx.saved = ()
            ctx.needs_input_grad = [rx, ry]
            g = x.grad_fn
            ex = (x if g is None else (g, x._out)) if rx else None
            g = y.grad_fn
            ctx.next = [ex, (y if g is None else (g, y._out)) if ry else None]
            return _recorded(ctx, cls.forward(ctx, x._data, y._data), b, dev, (x, y))
        f = cls.unrecorded
        out = f(x._data, y._data) if f is not None else \
            cls.forward(cls._node(cls, b.xp, dev), x._data, y._data)
        if out.__class__ is b.array_type:
            return _make(out, dev)
        return _unrecorded(out, b, dev)

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError


def binary_method(op, fallback):
    """The operator method of a binary arithmetic op (``Tensor.__add__`` from ``Add`` and
    ``add``): a float Tensor with another of its dtype, or with a Python int or float, needs
    no promotion and goes straight to ``op``; anything else takes ``fallback``, the public
    function (which promotes, then applies the same op)."""
    apply = op.apply
    apply2 = op.apply2

    def method(self, other):
        d = self._data.dtype
        if d.kind == "f":
            c = other.__class__
            if c is float or c is int:
                return apply(self, other)
            if (c is Tensor or isinstance(other, Tensor)) and other._data.dtype is d:
                return apply2(self, other)
        return fallback(self, other)

    method.__name__ = method.__qualname__ = fallback.__name__
    method.__doc__ = fallback.__doc__
    method._fallback = fallback  # lamina.compile traces through it (it looks the op up per call)
    return method


def _fix_out(out, b):
    """NumPy reductions return scalars (np.float32), not 0-d arrays: a tensor always holds an
    array (writeable, with .flags / .base), so scalars become 0-d arrays."""
    if out.__class__ is tuple:
        return tuple(o if o.__class__ is b.array_type else b.xp.asarray(o) for o in out)
    return b.xp.asarray(out)


def _recorded(ctx, out, b, dev, args):
    """The result Tensor(s) of an op whose node ``ctx`` is recorded: ``grad_fn`` is ctx, and
    the versions of the arrays saved for backward are remembered."""
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


def _unrecorded(out, b, dev):
    """The result Tensor(s) of an op without a node, when forward did not return one array."""
    out = _fix_out(out, b)
    if out.__class__ is tuple:
        return tuple(_make(o, dev) for o in out)
    return _make(out, dev)


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
                vc = t._version_counter
                vs.append((vc, vc[0], s, t))
                break
        else:
            if res.__class__ is tuple:
                for k, t in enumerate(res):
                    if s is t._data:
                        vs.append((t._version_counter, 0, s, (type(ctx), k)))
                        break
            elif s is res._data:
                vs.append((res._version_counter, 0, s, (type(ctx), 0)))
    if vs:
        ctx._versions = vs


_object_setattr = object.__setattr__


def as_view(out, src, fn):
    """Mark ``out``, the result of a view op on ``src``, as a view of it.

    The two share one version counter (an in-place change through either is seen by
    backward), and ``out`` remembers its root base plus ``fn``, a function from the base's
    array to this view's array, so an in-place op on the view can rewrite the base's history
    (torch's CopySlices). ``fn`` is None for views that cannot be written (``expand``).
    """
    _object_setattr(out, "_version_counter", src._version_counter)
    base = src._base
    if base is None:
        _object_setattr(out, "_base", src)
        _object_setattr(out, "_view_fn", fn)
    else:
        prev = src._view_fn
        _object_setattr(out, "_base", base)
        _object_setattr(out, "_view_fn", None if prev is None or fn is None else _compose(prev, fn))
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


__all__ = ["Op", "Tensor", "_type_str", "as_view", "binary_method", "sum_to_shape"]
