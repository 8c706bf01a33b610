"""Custom autograd Functions with PyTorch's ctx API."""

from __future__ import annotations

import functools

from .grad_mode import STATE
from .graph import _FREED, _SECOND_BACKWARD, Node


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function: it is also the graph node (``grad_fn``)."""

    def save_for_backward(self, *tensors):
        self._saved_t = tensors
        self.saved = tensors if tensors else ()

    @property
    def saved_tensors(self):
        if self.saved is _FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        return getattr(self, "_saved_t", ())

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        self._materialize = bool(value)

    def save_for_forward(self, *tensors):
        self._saved_fwd = tensors


class _FunctionOp:
    """Adapter so the engine can call a user Function's Tensor-level backward."""

    __slots__ = ()
    node_name = "FunctionBackward"
    # saved tensors are checked when backward reads ctx.saved_tensors, not before
    check_freed = False

    @staticmethod
    def backward(ctx, *grads):
        from .._device import backend
        from .._tensor import Tensor, _make

        fn = ctx._fn
        dev = ctx._dev
        xp = backend(dev).xp
        gts = []
        for k, g in enumerate(grads):
            if g is None and getattr(ctx, "_materialize", True):
                shape, dt = ctx._out_meta[k]
                g = xp.zeros(shape, dt)
            gts.append(None if g is None else _make(g, dev))
        prev = STATE.enabled
        STATE.enabled = False
        try:
            res = fn.backward(ctx, *gts)
        finally:
            STATE.enabled = prev
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(ctx.next)
        # torch accepts extra gradients only when they are all None
        if len(res) < n_in or any(r is not None for r in res[n_in:]):
            raise RuntimeError(f"function {fn.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(res)})")
        out = []
        for i in range(n_in):
            r = res[i]
            if r is None or not ctx.needs_input_grad[i]:
                out.append(None)
            elif isinstance(r, Tensor):
                a = r._data
                shp = ctx._in_shapes[i]
                if a.shape != shp:
                    from ..ops._op import sum_to_shape

                    try:
                        a = sum_to_shape(a, shp) if a.ndim >= len(shp) else None
                    except ValueError:
                        a = None
                    if a is None or a.shape != shp:
                        raise RuntimeError(f"Function {fn.__name__}Backward returned an invalid "
                                           f"gradient at index {i} - got {list(r.shape)} but "
                                           f"expected shape compatible with {list(shp)}")
                out.append(a)
            else:
                raise TypeError(f"backward of {fn.__name__} must return Tensors or None, got "
                                f"{type(r).__name__}")
        return tuple(out)


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_name = name + "Backward"
        # the node class of this Function, named as torch names it ("MyFnBackward")
        cls._ctx_cls = type(name + "Backward", (FunctionCtx,),
                            {"__module__": "lamina.autograd.function"})


class Function(metaclass=_FunctionMeta):
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` staticmethods
    (or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``); call ``.apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._device import CPU, backend
        from .._tensor import Tensor, _make

        dev = None
        req = False
        for a in args:
            if isinstance(a, Tensor):
                if dev is None:
                    dev = a._device
                elif a._device != dev:
                    raise RuntimeError(f"Expected all tensors to be on the same device, but "
                                       f"found at least two devices, {dev} and {a._device}!")
                req = req or a.requires_grad
        dev = dev or CPU
        ctx = cls._ctx_cls(_FunctionOp, backend(dev).xp)
        ctx._fn = cls
        ctx._dev = dev
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        new_style = cls.setup_context is not Function.setup_context
        prev = STATE.enabled
        STATE.enabled = False
        try:
            if new_style:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = prev
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        build = req and STATE.enabled
        non_diff = getattr(ctx, "_non_diff", set())
        res = []
        if build:
            ctx.next = [(a if a.grad_fn is None else (a.grad_fn, a._out))
                        if isinstance(a, Tensor) and a.requires_grad else None for a in args]
            ctx._in_shapes = [a._data.shape if isinstance(a, Tensor) else None for a in args]
            ctx.n_out = len(outs)
            ctx._out_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else
                             ((), None) for o in outs]
            saved = getattr(ctx, "_saved_t", ())
            vs = [(t._version_counter, t._version_counter[0], t._data, t) for t in saved if isinstance(t, Tensor)]
            ctx._versions = vs or None
        for k, o in enumerate(outs):
            if not isinstance(o, Tensor):
                res.append(o)
                continue
            if build and id(o) not in non_diff and o._data.dtype.kind == "f":
                t = _make(o._data, o._device, True, ctx, k)
                t._version_counter = o._version_counter
                res.append(t)
            else:
                if any(o is a for a in args):
                    o = _make(o._data, o._device)
                res.append(o)
        return res[0] if single else tuple(res)


def once_differentiable(fn):
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        return fn(ctx, *args)

    return wrapper


BackwardCFunction = FunctionCtx
