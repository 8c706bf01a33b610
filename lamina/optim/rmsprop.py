"""RMSprop (Hinton), centered variant and momentum as in PyTorch."""

from __future__ import annotations

from ._steps import GroupStepOptimizer, ema_square_, l2_grad, lerp_, param_steps, zero_state
from .optimizer import _check_args, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(GroupStepOptimizer):
    """RMSprop, PyTorch's formulation::

        v = alpha * v + (1 - alpha) * g * g
        a = sqrt(v - ga * ga) + eps with ga = lerp(ga, g, 1 - alpha)   (centered)
        a = sqrt(v) + eps                                              (otherwise)
        b = momentum * b + g / a; p -= lr * b                          (momentum > 0)
        p -= lr * g / a                                                (otherwise)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by the estimated variance of the gradient.
        maximize: maximize the objective.
        capturable, foreach: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("square_avg", "momentum_buffer", "grad_avg")
    _group_setdefaults = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                          "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        _check_args(lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha,
                    differentiable=differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_group(self, group, lr) -> None:
        alpha = group["alpha"]
        oma = 1 - alpha
        eps = group["eps"]
        wd = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        for xp, d, gd, st, arr, _ in param_steps(self, group, self._init_state):
            if momentum > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = _zeros_like(st["square_avg"])
            if centered and "grad_avg" not in st:
                st["grad_avg"] = _zeros_like(st["square_avg"])
            gd = l2_grad(d, gd, wd, maximize)
            v = arr(st["square_avg"])
            t = ema_square_(xp, v, gd, alpha)
            if centered:
                ga = arr(st["grad_avg"])
                lerp_(xp, ga, gd, oma, t)
                xp.multiply(ga, ga, out=t)
                xp.subtract(v, t, out=t)
                xp.sqrt(t, out=t)
            else:
                xp.sqrt(v, out=t)
            t += eps
            xp.divide(gd, t, out=t)
            if momentum > 0:
                b = arr(st["momentum_buffer"])
                b *= momentum
                b += t
                d -= b * lr
            else:
                t *= lr
                d -= t

    _init_state = staticmethod(zero_state("square_avg"))
