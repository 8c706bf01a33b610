"""lamina.backends.cuda: torch.backends.cuda's switches (``matmul.allow_tf32``, the
scaled-dot-product-attention kernel choices), stored with torch's defaults.

lamina's GPU matmuls are CuPy's in the dtype's full precision whatever these say: the
``allow_*`` flags are permissions torch may use, never requirements.
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["cudnn_sdp_enabled", "enable_cudnn_sdp", "enable_flash_sdp", "enable_math_sdp",
           "enable_mem_efficient_sdp", "flash_sdp_enabled", "is_built", "math_sdp_enabled",
           "matmul", "mem_efficient_sdp_enabled", "sdp_kernel"]


def is_built() -> bool:
    """True when lamina can use CUDA at all: CuPy is installed (torch: a CUDA build)."""
    from ..accelerator import _built

    return _built()


class cuBLASModule:
    """``matmul``: cuBLAS flags as attributes; an unknown name raises AttributeError."""

    _DEFAULTS = {
        "allow_tf32": False,
        "allow_fp16_reduced_precision_reduction": True,
        "allow_fp16_reduced_precision_reduction_split_k": True,
        "allow_bf16_reduced_precision_reduction": True,
        "allow_bf16_reduced_precision_reduction_split_k": True,
        "allow_fp16_accumulation": False,
        "fp32_precision": "none",
    }
    _SETTABLE = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction", "allow_fp16_accumulation",
                 "fp32_precision")

    def __init__(self):
        object.__setattr__(self, "_flags", dict(self._DEFAULTS))

    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name in flags:
            return flags[name]
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        if name not in self._SETTABLE:
            raise AttributeError("Unknown attribute " + name)
        if name.endswith("_reduced_precision_reduction"):
            red, splitk = _parse_reduction_setting(value, name)
            self._flags[name] = red
            self._flags[name + "_split_k"] = splitk
            return
        if name == "fp32_precision":
            if value not in ("none", "ieee", "tf32"):
                raise RuntimeError(f"fp32_precision: expected one of 'none', 'ieee', 'tf32', "
                                   f"got {value!r}")
        elif not isinstance(value, bool):
            raise TypeError(f"{name} expects a bool, but got {type(value)!r}")
        self._flags[name] = value


def _parse_reduction_setting(value, attr_name):
    def ensure_bool(obj, which):
        if isinstance(obj, bool):
            return obj
        raise TypeError(f"{attr_name} expects a bool for {which}, but got {type(obj)!r}")

    if isinstance(value, bool):
        return value, True
    if isinstance(value, (list, tuple)):
        if not value:
            raise TypeError(f"{attr_name} expects at least one boolean argument")
        if len(value) > 2:
            raise TypeError(f"{attr_name} expects at most two boolean arguments")
        red = ensure_bool(value[0], "allow_reduced_precision")
        if len(value) == 1:
            return red, True
        return red, ensure_bool(value[1], "allow_splitk")
    raise TypeError(f"{attr_name} expects a bool or a tuple/list of bools, but got "
                    f"{type(value)!r}")


matmul = cuBLASModule()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _SDP["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _SDP["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _SDP["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _SDP["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _SDP["math"]


def enable_math_sdp(enabled: bool) -> None:
    _SDP["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _SDP["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _SDP["cudnn"] = bool(enabled)


@contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Set the attention-kernel flags inside a ``with`` block (deprecated in torch too)."""
    import warnings

    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context "
                  "manager will be removed. Please see `torch.nn.attention.sdpa_kernel()` for "
                  "the new context manager, with updated signature.", FutureWarning,
                  stacklevel=3)
    saved = dict(_SDP)
    _SDP.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _SDP.update(saved)
