"""lamina.cuda.amp: torch.cuda.amp's deprecated spellings of lamina.amp's classes."""

from __future__ import annotations

import functools
import warnings

from . import autocast_mode, grad_scaler
from .autocast_mode import custom_bwd as _custom_bwd
from .autocast_mode import custom_fwd as _custom_fwd

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


class GradScaler(grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``lamina.amp.GradScaler('cuda', ...)``."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(autocast_mode.autocast):
    """``torch.cuda.amp.autocast(...)``: ``lamina.amp.autocast('cuda', ...)``."""

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        from .. import _dtype

        super().__init__("cuda", enabled=enabled,
                         dtype=_dtype.float16 if dtype is None else dtype,
                         cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``lamina.amp.custom_fwd(device_type='cuda')``."""
    return functools.partial(_custom_fwd, device_type="cuda", cast_inputs=cast_inputs)(fwd) \
        if fwd is not None else functools.partial(custom_fwd, cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``torch.cuda.amp.custom_bwd``: ``lamina.amp.custom_bwd(device_type='cuda')``."""
    return _custom_bwd(bwd, device_type="cuda") if bwd is not None else custom_bwd
