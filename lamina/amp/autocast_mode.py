"""lamina.amp.autocast: torch's autocast context manager / decorator, without the casting.

lamina does not implement automatic mixed precision. ``autocast(..., enabled=False)`` is the
exact no-op it is in torch. An autocast that torch itself would disable (``'cuda'`` without a
GPU, a dtype the device cannot autocast to) warns as torch does and is disabled. Any other
enabled autocast (e.g. ``autocast('cpu')``, bfloat16 in torch) warns once per process that
lamina runs the ops inside in their inputs' dtype (float32 stays float32) and is then also
disabled: ``is_autocast_enabled()`` is False inside it, because nothing is cast. Results are
those of the full-precision computation, never a pretended lower-precision one.
"""

from __future__ import annotations

import functools
import warnings

from .. import _dtype as D

__all__ = ["autocast", "autocast_decorator", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]

_DEVICES = ("cpu", "cuda")
# per device: [enabled, dtype]; enabled only ever holds what autocast really does (False)
_STATE = {"cpu": [False, D.bfloat16], "cuda": [False, D.float16]}
_warned = []


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` can be entered (cpu and cuda); casting never happens."""
    return device_type in _DEVICES


def _check_device(device_type) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICES:
        raise RuntimeError(f"User specified an unsupported autocast device_type "
                           f"'{device_type}'; lamina knows 'cpu' and 'cuda'")
    return device_type


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether ops on ``device_type`` (default cuda, as torch) are being autocast: always False
    in lamina, which runs every op in its inputs' dtype."""
    return _STATE[_check_device("cuda" if device_type is None else device_type)][0]


def get_autocast_dtype(device_type: str):
    """The dtype autocast on ``device_type`` is set to (bfloat16 on cpu, float16 on cuda unless
    an enclosing autocast chose another)."""
    return _STATE[_check_device(device_type)][1]


def autocast_decorator(autocast_instance, func):
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


class autocast:
    """``with lamina.autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` or
    ``@lamina.autocast(...)``: a working context / decorator that casts nothing (see the
    module docstring)."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        self.device = _check_device(device_type)
        if dtype is None:
            self.fast_dtype = get_autocast_dtype(device_type)
        else:  # a dtype object as is (lamina.bfloat16 too: nothing is ever cast to it)
            self.fast_dtype = dtype if isinstance(dtype, D.dtype) else D.to_dtype(dtype)
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled:
            if self.device == "cuda":
                from .. import cuda

                if not cuda.is_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                                  "autocast.", stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in (D.bfloat16, D.float16):
                warnings.warn(f"In CPU autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\nCPU Autocast only supports dtypes of "
                              f"{D.bfloat16}, {D.float16} currently.", stacklevel=2)
                enabled = False
        if enabled:
            if not _warned:
                _warned.append(True)
                warnings.warn(f"lamina does not implement autocast (mixed precision): inside "
                              f"autocast('{self.device}', dtype={self.fast_dtype}) every op runs "
                              f"in its inputs' dtype (float32 stays float32), so results are "
                              f"the full-precision ones and is_autocast_enabled() is False",
                              UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        st = _STATE[self.device]
        self.prev, self.prev_fastdtype = st[0], st[1]
        st[0], st[1] = self._enabled, self.fast_dtype
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        st = _STATE[self.device]
        st[0], st[1] = self.prev, self.prev_fastdtype
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got "
                            f"{type(func).__name__}. Did you mean to use autocast as a context "
                            f"manager? For example:\n    with torch.autocast(device_type=...):\n"
                            f"        output = model(input)")
        return autocast_decorator(self, func)


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom Function's ``forward``: records the autocast state for
    :func:`custom_bwd` (autocast never casts in lamina, so ``cast_inputs`` has nothing to do)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom Function's ``backward``: runs it under the forward's autocast
    state."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
