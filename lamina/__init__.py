"""lamina: PyTorch's tensors, autograd and nn modules in pure Python on NumPy / CuPy.

``import lamina as torch`` and PyTorch tutorial code runs unchanged.
"""

from __future__ import annotations

from . import _dtype
from ._device import device
from ._dtype import (bool, double, dtype, finfo, float, float16, float32, float64,  # noqa: A004
                     get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long,
                     promote_types, set_default_dtype, short, uint8)
from ._tensor import Size, Tensor
from ._formatting import set_printoptions
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .ops import elementwise as _ew
from .ops import index as _ix
from .ops import inplace as _ip
from .ops import linalg as _la
from .ops import reduce as _rd
from .ops import shape as _sh
from . import _creation
from ._tensor import _install_methods

_install_methods(_ew, _rd, _la, _sh, _ix, _ip)

from ._creation import *  # noqa: E402,F401,F403
from .ops.elementwise import *  # noqa: E402,F401,F403
from .ops.index import *  # noqa: E402,F401,F403
from .ops.linalg import *  # noqa: E402,F401,F403
from .ops.reduce import *  # noqa: E402,F401,F403
from .ops.shape import *  # noqa: E402,F401,F403
from .ops.reduce import return_types  # noqa: E402
from . import autograd, cuda, random  # noqa: E402
from .random import (Generator, default_generator, get_rng_state, initial_seed,  # noqa: E402
                     manual_seed, seed, set_rng_state)

__version__ = "0.1.0"

_LAZY = {"nn", "optim", "utils", "testing", "safetensors", "serialization", "examples"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        from . import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'lamina' has no attribute '{name}'")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def set_default_device(device):
    raise RuntimeError("lamina has no global default device; pass device= or use .to(device)")


def get_num_threads():
    return 1


def set_num_threads(n):
    """Accepted for compatibility; NumPy's BLAS decides its own threading."""


def compile(model=None, **kwargs):  # noqa: A001 - torch.compile
    """torch.compile is the identity in lamina (there is no compiler)."""
    if model is None:
        return lambda m: m
    return model


def detach(input):
    return input.detach()


def clone(input, *, memory_format=None):
    return input.clone()



# --- sequence ops (issue 14): torch.softmax / Tensor.softmax / Tensor.multinomial ---
from .ops.activation import log_softmax, softmax  # noqa: E402,F401

Tensor.softmax = softmax
Tensor.log_softmax = log_softmax
Tensor.multinomial = multinomial  # noqa: F405
