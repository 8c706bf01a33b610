"""Adagrad (Duchi et al.), with PyTorch's learning-rate decay."""

from __future__ import annotations

from ._steps import GroupStepOptimizer, l2_grad, param_steps
from .optimizer import _check_args, _full_like, _is_uninitialized, _step_tensor

__all__ = ["Adagrad"]


class Adagrad(GroupStepOptimizer):
    """Adagrad, PyTorch's formulation::

        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    Unlike the other optimizers the state (``step`` and ``sum``) is created for every
    parameter in the constructor, as PyTorch does.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: initial value of ``sum`` (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective.
        foreach, fused: accepted for compatibility.
        differentiable: must be False.
    """

    _param_state_keys = ("sum",)
    _group_setdefaults = {"foreach": None, "maximize": False, "differentiable": False,
                          "fused": None}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
                 fused=None) -> None:
        _check_args(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, epsilon=eps,
                    differentiable=differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                # a lazy parameter has no shape yet: its state is made at its first step
                if not _is_uninitialized(p) and getattr(p, "_data", None) is not None:
                    self._init_state(self.state[p], p)

    def _init_state(self, st: dict, p) -> None:
        st.clear()
        st["step"] = _step_tensor()
        st["sum"] = _full_like(p, self.defaults["initial_accumulator_value"])

    def _step_group(self, group, lr) -> None:
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        wd = group["weight_decay"]
        maximize = group["maximize"]
        for xp, d, gd, st, arr, step in param_steps(self, group, self._init_state):
            gd = l2_grad(d, gd, wd, maximize)
            clr = lr / (1 + (step - 1) * lr_decay)
            s = arr(st["sum"])
            t = gd * gd
            s += t
            xp.sqrt(s, out=t)
            t += eps
            xp.divide(gd, t, out=t)
            t *= clr
            d -= t
