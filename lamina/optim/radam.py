"""RAdam: Adam with a rectified adaptive learning rate (Liu et al.)."""

from __future__ import annotations

import math

from ._steps import GroupStepOptimizer, decayed_grad, ema_square_, lerp_, param_steps, zero_state
from .optimizer import _check_args

__all__ = ["RAdam"]


class RAdam(GroupStepOptimizer):
    """RAdam, PyTorch's formulation: Adam's update times the variance rectification term
    ``r_t`` while ``rho_t > 5``, plain bias-corrected momentum SGD before that.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: coefficients (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        decoupled_weight_decay: AdamW-style decay.
        maximize: maximize the objective.
        foreach, capturable: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        _check_args(lr, epsilon=eps, betas=betas, weight_decay=weight_decay,
                    differentiable=differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_group(self, group, lr) -> None:
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        maximize = group["maximize"]
        rho_inf = 2 / (1 - beta2) - 1
        for xp, d, gd, st, arr, step in param_steps(self, group, self._init_state):
            gd = decayed_grad(d, gd, lr, wd, decoupled, maximize)
            m = arr(st["exp_avg"])
            v = arr(st["exp_avg_sq"])
            t = lerp_(xp, m, gd, 1 - beta1)
            ema_square_(xp, v, gd, beta2, t)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
            xp.divide(m, bias_correction1, out=t)
            t *= lr
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                a = xp.sqrt(v)
                a += eps
                xp.divide(bias_correction2 ** 0.5, a, out=a)
                t *= a
                t *= rect
            d -= t

    _init_state = staticmethod(zero_state("exp_avg", "exp_avg_sq"))
