"""Finite-difference gradient checks (float64 central differences)."""

from __future__ import annotations

import numpy as np


def numerical_grads(func, inputs, eps=1e-6):
    """d(sum(func(*inputs) * v))/d(input) for a fixed random v, by central differences."""
    from .._tensor import Tensor

    out = func(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.RandomState(0)
    vs = [rng.standard_normal(o.shape) for o in outs]

    def scalar():
        o = func(*inputs)
        o = o if isinstance(o, tuple) else (o,)
        return sum(float((np.asarray(x.detach()._data, dtype=np.float64) * v).sum())
                   for x, v in zip(o, vs))

    grads = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            grads.append(None)
            continue
        a = t._data
        g = np.zeros(a.shape, np.float64)
        flat = a.reshape(-1)
        gf = g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = scalar()
            flat[i] = old - eps
            fm = scalar()
            flat[i] = old
            gf[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads, vs


def analytical_grads(func, inputs, vs):
    from .._tensor import Tensor, _make
    from . import grad as _grad

    out = func(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    gouts = [_make(np.asarray(v, dtype=o._data.dtype).reshape(o._data.shape), o._device)
             for o, v in zip(outs, vs)]
    gs = _grad(outs, diff, gouts, allow_unused=True)
    it = iter(gs)
    return [next(it) if isinstance(t, Tensor) and t.requires_grad else None for t in inputs]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare analytical gradients with central differences (inputs should be float64)."""
    from .._tensor import Tensor

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    num, vs = numerical_grads(func, inputs, eps)
    ana = analytical_grads(func, inputs, vs)
    for i, (n, a) in enumerate(zip(num, ana)):
        if n is None:
            continue
        av = np.zeros_like(n) if a is None else np.asarray(a._data, dtype=np.float64)
        if not np.allclose(av, n, atol=atol, rtol=rtol):
            if raise_exception:
                err = np.abs(av - n).max()
                raise RuntimeError(
                    f"Jacobian mismatch for output 0 with respect to input {i}: max abs error "
                    f"{err:.3g}\nnumerical:{n}\nanalytical:{av}")
            return False
    return True
