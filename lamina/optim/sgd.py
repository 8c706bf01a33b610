"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as _np

from .._backends import _workspace as _ws
from .._tensor import Tensor, _make
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _check_differentiable, _check_lr

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (``-grad`` when ``maximize``)::

        b = g                                  (first step)
        b = momentum * b + (1 - dampening) * g (later steps)
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3, as PyTorch 2.x).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing.
        foreach, fused: accepted for compatibility (lamina always runs one vectorized loop).
        differentiable: must be False.

    Example:
        >>> import lamina
        >>> w = lamina.nn.Parameter(lamina.ones(2))
        >>> opt = lamina.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        Parameter containing:
        tensor([0.8000, 0.8000], requires_grad=True)
    """

    _param_state_keys = ("momentum_buffer",)
    _group_setdefaults = {"nesterov": False, "maximize": False, "foreach": None,
                          "differentiable": False, "fused": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

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
            wd = group["weight_decay"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            plain = wd == 0 and not maximize
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                d = p._data
                gd = g._data
                # arithmetic on 0-d arrays yields NumPy scalars, which in-place updates cannot
                # write through: work on 1-element views instead
                sc = not d.ndim
                if sc:
                    d = d.reshape(1)
                    gd = gd.reshape(1)
                if plain:
                    pass  # the common case: the gradient as it is
                elif wd != 0:
                    t = d * wd
                    if maximize:
                        t -= gd
                    else:
                        t += gd
                    gd = t
                else:  # maximize without weight decay
                    gd = -gd
                if momentum != 0:
                    st = state[p]
                    buf = st.get("momentum_buffer")
                    if buf is not None:
                        b = buf._data
                        # the state still fits p (the common case, tested inline), else the
                        # helper moves or resets it
                        if (b.shape != p._data.shape or b.dtype is not p._data.dtype
                                or buf._device is not p._device) and self._state_stale(st, p):
                            buf = None
                        else:
                            buf = st["momentum_buffer"]
                    if buf is None:
                        # first step: the buffer is a copy of the gradient (no dampening)
                        b = gd.copy()
                        st["momentum_buffer"] = _make(b.reshape(()) if sc else b, p._device)
                    else:
                        b = buf._data
                        if sc:
                            b = b.reshape(1)
                        b *= momentum
                        if dampening != 0:
                            b += gd * (1 - dampening)
                        else:
                            b += gd
                    if nesterov:
                        gd = gd + b * momentum
                    else:
                        gd = b
                if d.__class__ is _np.ndarray and d.nbytes >= _ws.MIN_BYTES:
                    # the step into a work buffer: no fresh temporary per parameter and step
                    d -= _np.multiply(gd, lr, out=_ws.empty(_np, gd.shape, gd.dtype))
                else:
                    d -= gd * lr
                p._version_counter[0] += 1
        return loss
