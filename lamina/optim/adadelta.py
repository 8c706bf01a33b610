"""Adadelta (Zeiler)."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _check_differentiable, _check_lr, _step_tensor, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, PyTorch's formulation::

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params: parameters or parameter groups.
        lr: scale of delta (default 1.0).
        rho: running-average coefficient (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.
        foreach, capturable: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        state = self.state
        for group in self.param_groups:
            lr = group["lr"]
            if isinstance(lr, Tensor):
                lr = lr.item()
            rho = group["rho"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
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
                # arithmetic on 0-d arrays yields NumPy scalars, which in-place updates cannot
                # write through: work on 1-element views instead
                sc = not d.ndim
                if sc:
                    d = d.reshape(1)
                    gd = gd.reshape(1)
                st = state[p]
                if not st or self._state_stale(st, p):
                    st.clear()
                    st["step"] = _step_tensor()
                    st["square_avg"] = _zeros_like(p)
                    st["acc_delta"] = _zeros_like(p)
                sa = st["step"]._data
                sa += 1
                if maximize:
                    gd = -gd
                if wd != 0:
                    gd = gd + d * wd
                v = st["square_avg"]._data
                u = st["acc_delta"]._data
                if sc:
                    v = v.reshape(1)
                    u = u.reshape(1)
                v *= rho
                t = gd * (1 - rho)
                t *= gd
                v += t
                std = v + eps
                xp.sqrt(std, out=std)
                delta = u + eps
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= gd
                u *= rho
                xp.multiply(delta, 1 - rho, out=t)
                t *= delta
                u += t
                delta *= lr
                d -= delta
                p._vc[0] += 1
        return loss
