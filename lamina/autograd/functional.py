"""autograd.functional: jacobian (by repeated backward) and vjp."""

from __future__ import annotations


def vjp(func, inputs, v=None):
    from .._tensor import Tensor
    from . import grad

    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    ins = tuple(x.detach().requires_grad_() for x in ins)
    out = func(*ins)
    gs = grad(out, ins, v, allow_unused=True, materialize_grads=True)
    return out.detach(), (gs[0] if single else gs)


def jacobian(func, inputs):
    from .. import _creation as C
    from .._tensor import Tensor
    from ..ops.shape import stack
    from . import grad

    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    ins = tuple(x.detach().requires_grad_() for x in ins)
    out = func(*ins)
    flat = out.reshape(-1)
    rows = [[] for _ in ins]
    for i in range(flat.shape[0]):
        v = C.zeros_like(flat)
        v._data[i] = 1
        gs = grad(flat, ins, v, retain_graph=True, allow_unused=True, materialize_grads=True)
        for k, g in enumerate(gs):
            rows[k].append(g)
    jac = tuple(stack(r).reshape(tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, ins))
    return jac[0] if single else jac
