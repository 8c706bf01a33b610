"""Adamax: Adam with the infinity norm (Kingma & Ba, section 7)."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from .adam import _check_betas, _check_eps_wd, _lerp
from .optimizer import Optimizer, _check_differentiable, _check_lr, _step_tensor, _zeros_like

__all__ = ["Adamax"]


class Adamax(Optimizer):
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
        _check_lr(lr)
        _check_eps_wd(eps, 0.0)
        _check_betas(betas)
        _check_eps_wd(0.0, weight_decay)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
            beta1, beta2 = group["betas"]
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
                    st["exp_avg"] = _zeros_like(p)
                    st["exp_inf"] = _zeros_like(p)
                sa = st["step"]._data
                sa += 1
                step = float(sa)
                if maximize:
                    gd = -gd
                if wd != 0:
                    gd = gd + d * wd
                m = st["exp_avg"]._data
                u = st["exp_inf"]._data
                if sc:
                    m = m.reshape(1)
                    u = u.reshape(1)
                t = gd - m
                _lerp(xp, m, gd, t, 1 - beta1)
                u *= beta2
                xp.abs(gd, out=t)
                t += eps
                xp.maximum(u, t, out=u)
                clr = lr / (1 - beta1 ** step)
                xp.divide(m, u, out=t)
                t *= clr
                d -= t
                p._vc[0] += 1
        return loss
