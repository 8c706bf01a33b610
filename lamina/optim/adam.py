"""Adam (with AMSGrad and optionally decoupled weight decay)."""

from __future__ import annotations

from .._tensor import Tensor
from ._steps import GroupStepOptimizer, decayed_grad, ema_square_, lerp_, param_steps, zero_state
from .optimizer import _check_args, _check_differentiable, _to_scalar, _zeros_like

__all__ = ["Adam"]


class Adam(GroupStepOptimizer):
    """Adam (Kingma & Ba), PyTorch's formulation and defaults.

    Per step ``t`` with ``g = grad (+ weight_decay * p unless decoupled)``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                             (amsgrad)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    With ``decoupled_weight_decay=True`` (AdamW) ``p`` is first scaled by
    ``1 - lr * weight_decay`` instead of adding the decay to the gradient.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the maximum of past second moments.
        maximize: maximize the objective.
        decoupled_weight_decay: AdamW's decay.
        foreach, capturable, fused: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _group_setdefaults = {"amsgrad": False, "maximize": False, "foreach": None,
                          "capturable": False, "differentiable": False,
                          "decoupled_weight_decay": False, "fused": None}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        _check_args(lr, epsilon=eps, betas=betas, weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError(  # noqa: TRY004 - torch raises ValueError
                "betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    _init_state = staticmethod(zero_state("exp_avg", "exp_avg_sq"))
    _init_state_ams = staticmethod(zero_state("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))

    def _step_group(self, group, lr) -> None:
        beta1, beta2 = group["betas"]
        beta1 = _to_scalar(beta1)
        beta2 = _to_scalar(beta2)
        omb1 = 1 - beta1
        eps = group["eps"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        init = self._init_state_ams if amsgrad else self._init_state
        for xp, d, gd, st, arr, step in param_steps(self, group, init):
            if amsgrad and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = _zeros_like(st["exp_avg_sq"])
            gd = decayed_grad(d, gd, lr, wd, decoupled, maximize)
            m = arr(st["exp_avg"])
            v = arr(st["exp_avg_sq"])
            t = lerp_(xp, m, gd, omb1)
            ema_square_(xp, v, gd, beta2, t)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            step_size = lr / bias_correction1
            if amsgrad:
                mx = arr(st["max_exp_avg_sq"])
                xp.maximum(mx, v, out=mx)
                xp.sqrt(mx, out=t)
            else:
                xp.sqrt(v, out=t)
            t /= bias_correction2_sqrt
            t += eps
            xp.divide(m, t, out=t)
            t *= step_size
            d -= t
