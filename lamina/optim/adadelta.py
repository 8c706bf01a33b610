"""Adadelta (Zeiler)."""

from __future__ import annotations

from ._steps import GroupStepOptimizer, ema_square_, l2_grad, param_steps, zero_state
from .optimizer import _check_args

__all__ = ["Adadelta"]


class Adadelta(GroupStepOptimizer):
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
        _check_args(lr, rho=rho, epsilon=eps, weight_decay=weight_decay,
                    differentiable=differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_group(self, group, lr) -> None:
        rho = group["rho"]
        eps = group["eps"]
        wd = group["weight_decay"]
        maximize = group["maximize"]
        for xp, d, gd, st, arr, _ in param_steps(self, group, self._init_state):
            gd = l2_grad(d, gd, wd, maximize)
            v = arr(st["square_avg"])
            u = arr(st["acc_delta"])
            t = ema_square_(xp, v, gd, rho)
            std = v + eps
            xp.sqrt(std, out=std)
            delta = u + eps
            xp.sqrt(delta, out=delta)
            delta /= std
            delta *= gd
            ema_square_(xp, u, delta, rho, t)
            delta *= lr
            d -= delta

    _init_state = staticmethod(zero_state("square_avg", "acc_delta"))
