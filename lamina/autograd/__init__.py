"""lamina.autograd: backward, grad, grad mode, custom Functions."""

from __future__ import annotations

from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .graph import Node

__all__ = [
    "Function",
    "FunctionCtx",
    "Node",
    "backward",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "once_differentiable",
    "set_grad_enabled",
]

_NO_DOUBLE = ("lamina does not support create_graph=True (higher-order gradients) yet: its "
              "backward functions work on raw arrays. Compute the gradient once, or use finite "
              "differences for second derivatives.")


def _root_grads(tensors, grad_tensors, name):
    from .._tensor import Tensor

    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{name}: got {len(grad_tensors)} gradients for {len(tensors)} "
                           f"outputs")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            from .._device import backend

            ga = backend(t._device).xp.ones_like(t._data)
        else:
            if not isinstance(g, Tensor):
                from .._creation import tensor

                g = tensor(g, dtype=t.dtype, device=t._device)
            if tuple(g._data.shape) != tuple(t._data.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape!r} and output[{i}] has a shape of {t.shape!r}.")
            ga = g._data
            if ga.dtype != t._data.dtype:
                ga = ga.astype(t._data.dtype)
        roots.append((t, ga))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    from .engine import run_backward

    if create_graph:
        raise RuntimeError(_NO_DOUBLE)
    roots = _root_grads(tensors, grad_tensors if grad_variables is None else grad_variables,
                        "backward")
    if inputs is not None:
        from .._tensor import Tensor

        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        got = run_backward(roots, bool(retain_graph), inputs=inputs)
        from .engine import _accumulate

        kept: set = set()
        for k, t in enumerate(inputs):
            g = got.get(k)
            if g is not None:
                _accumulate(t, g, None, kept, _make_fn())
        return
    run_backward(roots, bool(retain_graph))


def _make_fn():
    from .._tensor import _make

    return _make


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (``.grad`` is not touched)."""
    from .._tensor import Tensor, _make
    from .engine import run_backward

    if create_graph:
        raise RuntimeError(_NO_DOUBLE)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = _root_grads(outputs, grad_outputs, "grad")
    got = run_backward(roots, bool(retain_graph), inputs=inputs)
    res = []
    for k, t in enumerate(inputs):
        g = got.get(k)
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not "
                                   f"have been used in the graph. Set allow_unused=True if this "
                                   f"is the desired behavior.")
            if materialize_grads:
                from .._device import backend

                res.append(_make(backend(t._device).xp.zeros_like(t._data), t._device))
            else:
                res.append(None)
        else:
            if g.base is not None or not g.flags.writeable:
                g = g.copy()
            if g.shape != t._data.shape:
                from ..ops._op import sum_to_shape

                g = sum_to_shape(g, t._data.shape)
            res.append(_make(g, t._device))
    return tuple(res)


from . import functional

# bound after the submodule import, so the name is the function (as torch.autograd.gradcheck)
from .gradcheck import gradcheck
