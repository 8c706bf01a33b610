"""The per-parameter loop every optimizer's ``step`` shares (one place, not one per optimizer)."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad

__all__ = ["closure_loss", "group_lr", "l2_grad", "param_steps"]


def closure_loss(closure):
    """Run ``closure`` with grad enabled, as torch's optimizers do; None without one."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def group_lr(group) -> float:
    """The group's learning rate as a Python float (a 1-element tensor lr is allowed)."""
    lr = group["lr"]
    return lr.item() if isinstance(lr, Tensor) else lr


def _flat(t: Tensor):
    return t._data.reshape(1)


def _same(t: Tensor):
    return t._data


def param_steps(opt, group, init_state):
    """Yield ``(xp, d, g, st, arr, step)`` for every parameter of ``group`` that has a grad.

    ``d`` and ``g`` are the raw arrays of the parameter and its gradient, ``st`` its state
    dict (created by ``init_state(st, p)`` on the first step, or again when the parameter's
    shape changed, e.g. a lazy module materialized), ``arr(tensor)`` gives a state tensor's
    array in the same layout as ``d``, and ``step`` is the state's step count, already
    incremented. The parameter's version counter is bumped once the caller has updated it.
    """
    state = opt.state
    stale = opt._state_stale
    dev = xp = None
    for p in group["params"]:
        g = p.grad
        if g is None:
            continue
        if p._device is not dev:
            dev = p._device
            xp = backend(dev).xp
        d = p._data
        gd = g._data
        arr = _same
        if not d.ndim:
            # arithmetic on 0-d arrays yields NumPy scalars, which in-place updates cannot
            # write through: work on 1-element views instead
            d = d.reshape(1)
            gd = gd.reshape(1)
            arr = _flat
        st = state[p]
        if not st or stale(st, p):
            st.clear()
            init_state(st, p)
        sa = st["step"]._data
        sa += 1
        yield xp, d, gd, st, arr, float(sa)
        p._vc[0] += 1


def l2_grad(d, g, weight_decay, maximize):
    """The gradient torch's optimizers step on: ``(-g if maximize else g) + weight_decay * d``."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + d * weight_decay
    return g
