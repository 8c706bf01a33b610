"""NAdam: Adam with Nesterov momentum (Dozat), with PyTorch's momentum decay."""

from __future__ import annotations

from ._steps import GroupStepOptimizer, decayed_grad, ema_square_, lerp_, param_steps
from .optimizer import _check_args, _step_tensor, _zeros_like

__all__ = ["NAdam"]


class NAdam(GroupStepOptimizer):
    """NAdam, PyTorch's formulation::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)); P = prod(mu_1..mu_t)
        m = lerp(m, g, 1 - beta1); v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - P) * g / d + lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum_decay: default 4e-3.
        decoupled_weight_decay: AdamW-style decay (NAdamW).
        maximize: maximize the objective.
        foreach, capturable: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        _check_args(lr, epsilon=eps, betas=betas, weight_decay=weight_decay,
                    momentum_decay=momentum_decay, differentiable=differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_group(self, group, lr) -> None:
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        decoupled = group["decoupled_weight_decay"]
        maximize = group["maximize"]
        for xp, d, gd, st, arr, step in param_steps(self, group, self._init_state):
            gd = decayed_grad(d, gd, lr, wd, decoupled, maximize)
            bias_correction2 = 1 - beta2 ** step
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mp = st["mu_product"]._data
            mp *= mu  # kept in float32 like torch's scalar tensor
            mu_product = float(mp)
            m = arr(st["exp_avg"])
            v = arr(st["exp_avg_sq"])
            t = lerp_(xp, m, gd, 1 - beta1)
            ema_square_(xp, v, gd, beta2, t)
            xp.divide(v, bias_correction2, out=t)
            xp.sqrt(t, out=t)
            t += eps
            u = gd * (lr * (1.0 - mu) / (1.0 - mu_product))
            u /= t
            d -= u
            xp.multiply(m, lr * mu_next / (1.0 - mu_product * mu_next), out=u)
            u /= t
            d -= u

    @staticmethod
    def _init_state(st: dict, p) -> None:
        st["step"] = _step_tensor()
        st["mu_product"] = _step_tensor(1.0)
        st["exp_avg"] = _zeros_like(p)
        st["exp_avg_sq"] = _zeros_like(p)
