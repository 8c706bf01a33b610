"""The per-parameter loop every optimizer's ``step`` shares (one place, not one per optimizer)."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _step_tensor, _zeros_like

__all__ = ["GroupStepOptimizer", "closure_loss", "decayed_grad", "ema_square_", "group_lr",
           "l2_grad", "lerp_", "param_steps", "zero_state"]


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


class GroupStepOptimizer(Optimizer):
    """An optimizer whose step updates each param group in turn: a subclass defines
    ``_step_group(group, lr)`` (``lr`` from :func:`group_lr`), which walks the group's
    parameters through :func:`param_steps`."""

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss (or None)."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            self._step_group(group, group_lr(group))
        return loss

    def _step_group(self, group, lr) -> None:  # pragma: no cover - abstract, like Optimizer.step
        raise NotImplementedError(
            f"{type(self).__name__}._step_group: a GroupStepOptimizer subclass must define how "
            f"one parameter group is updated")


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
        p._version_counter[0] += 1


def l2_grad(d, g, weight_decay, maximize):
    """The gradient torch's optimizers step on: ``(-g if maximize else g) + weight_decay * d``."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + d * weight_decay
    return g


def decayed_grad(d, g, lr, weight_decay, decoupled, maximize):
    """The Adam family's gradient: with ``decoupled`` (AdamW) the parameter is first scaled by
    ``1 - lr * weight_decay`` in place and the gradient only negated for ``maximize``;
    otherwise :func:`l2_grad`."""
    if decoupled:
        if weight_decay != 0:
            d *= 1 - lr * weight_decay
        weight_decay = 0
    return l2_grad(d, g, weight_decay, maximize)


def lerp_(xp, m, g, w, t=None):
    """The first moment, ``m.lerp_(g, w)`` with torch's two formulas (``m + w * (g - m)``
    below w = 0.5, ``g - (1 - w) * (g - m)`` from it). ``t`` is scratch of m's shape (a new
    array if None); returned, clobbered, for reuse."""
    if t is None:
        t = g - m
    else:
        xp.subtract(g, m, out=t)
    if w < 0.5:
        t *= w
        m += t
    else:
        t *= 1 - w
        xp.subtract(g, t, out=m)
    return t


def ema_square_(xp, v, g, beta, t=None):
    """The second moment, ``v.mul_(beta).addcmul_(g, g, value=1 - beta)`` in torch's float
    steps. ``t`` is scratch of v's shape (a new array if None); returned, clobbered."""
    v *= beta
    if t is None:
        t = g * (1 - beta)
    else:
        xp.multiply(g, 1 - beta, out=t)
    t *= g
    v += t
    return t


def zero_state(*names):
    """An ``init_state(st, p)`` for :func:`param_steps`: a ``step`` counter, then a zero buffer
    shaped like ``p`` for each name, in that order (the order torch's state dicts have)."""

    def init_state(st: dict, p) -> None:
        st["step"] = _step_tensor()
        for name in names:
            st[name] = _zeros_like(p)

    return init_state
