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
# the op modules whose ops torch has as torch.X / Tensor.X: importing one declares its ops
# (ops/_registry.py), and install() binds every declared name once
from . import _creation  # noqa: F401
from .ops import activation as _act, arithmetic as _ar, compare as _cmp  # noqa: F401
from .ops import index as _ix, inplace as _ip, linalg as _la, reduce as _rd  # noqa: F401
from .ops import select as _sel, shape as _sh, unary as _un  # noqa: F401
from .ops._registry import install as _install

_install(Tensor, globals())

from .ops.reduce import return_types  # noqa: E402
from . import autograd, cpu, cuda, random  # noqa: E402
from ._backends import numpy_backend as _numpy_backend  # noqa: E402
from .random import (Generator, default_generator, get_rng_state, initial_seed,  # noqa: E402
                     manual_seed, seed, set_rng_state)

__version__ = "0.1.0"

_LAZY = {"nn", "optim", "utils", "testing", "safetensors", "serialization", "examples",
         "distributed", "special", "linalg", "compiler"}


# torch.* twins of nn.functional ops (torch.conv2d, torch.dropout, ...): their module pulls in
# the conv/pool/norm/loss ops, so it is imported at the first use of one of these names
_FUNCTIONAL_TWINS = frozenset({
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "cosine_similarity", "pairwise_distance", "rms_norm", "adaptive_avg_pool1d",
    "adaptive_max_pool1d", "avg_pool1d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
    "max_pool3d", "pixel_shuffle", "pixel_unshuffle", "bilinear", "dropout",
    "alpha_dropout", "feature_alpha_dropout", "dropout_", "alpha_dropout_",
    "feature_alpha_dropout_", "layer_norm", "group_norm", "batch_norm",
    "instance_norm", "embedding",
})


def __dir__():
    return sorted(set(globals()) | _FUNCTIONAL_TWINS | _LAZY)


def __getattr__(name):
    if name in _FUNCTIONAL_TWINS:
        from . import _torch_functional

        value = getattr(_torch_functional, name)
        globals()[name] = value  # later lookups are plain attribute hits
        return value
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
    """The number of threads lamina splits large elementwise kernels over (OMP_NUM_THREADS
    if set, else the cpus this process may use, as torch)."""
    return _numpy_backend.get_num_threads()


def set_num_threads(int):  # noqa: A002 - torch's parameter name
    """Set the intra-op thread count (lamina's own kernels; NumPy's BLAS keeps its own)."""
    _numpy_backend.set_num_threads(int)


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """torch.compile: record the array program of ``model`` once, replay it (lamina.compiler)."""
    from .compiler import compile as _compile

    return _compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                    options=options, name=name, disable=disable,
                    recompile_limit=recompile_limit, isolate_recompiles=isolate_recompiles,
                    shapes_spec=shapes_spec)


def get_device(input):
    return input.get_device()


def is_complex(input):
    return input.is_complex()


def fill(input, value):
    """torch.fill: a filled copy (the out-of-place twin of Tensor.fill_)."""
    return input.clone().fill_(value)


def detach(input):
    return input.detach()


def detach_(input):
    return input.detach_()


from . import accelerator  # noqa: E402
from . import backends  # noqa: E402
from . import amp  # noqa: E402
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402
from ._dtype import bfloat16  # noqa: E402 - a named dtype that refuses data (see _dtype)
