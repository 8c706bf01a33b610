"""Adamax: Adam with the infinity norm (Kingma & Ba, section 7)."""

from __future__ import annotations

from ._steps import GroupStepOptimizer, l2_grad, lerp_, param_steps, zero_state
from .optimizer import _check_args

__all__ = ["Adamax"]


class Adamax(GroupStepOptimizer):
    """Adamax, PyTorch's formulation::

        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients (default (0.9, 0.999)).
        eps: added to ``|g|`` (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.
        foreach, capturable: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False,
                 capturable=False) -> None:
        _check_args(lr, epsilon=eps, betas=betas, weight_decay=weight_decay,
                    differentiable=differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _step_group(self, group, lr) -> None:
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        maximize = group["maximize"]
        for xp, d, gd, st, arr, step in param_steps(self, group, self._init_state):
            gd = l2_grad(d, gd, wd, maximize)
            m = arr(st["exp_avg"])
            u = arr(st["exp_inf"])
            t = lerp_(xp, m, gd, 1 - beta1)
            u *= beta2
            xp.abs(gd, out=t)
            t += eps
            xp.maximum(u, t, out=u)
            clr = lr / (1 - beta1 ** step)
            xp.divide(m, u, out=t)
            t *= clr
            d -= t

    _init_state = staticmethod(zero_state("exp_avg", "exp_inf"))
