"""Argument helpers shared by the layer families (torch.nn.modules.utils) and the shape error
of layers whose torch counterpart raises ``ValueError``."""

from __future__ import annotations

import collections.abc
import math
from itertools import repeat

from .._errors import ModuleInputError, shape_error

__all__ = [
    "InputValueError",
    "_ntuple",
    "_pair",
    "_quadruple",
    "_reverse_repeat_tuple",
    "_single",
    "_triple",
    "check_spatial_input",
    "input_shape",
    "make_affine",
    "reset_fan_in_uniform_",
    "uniform_within_",
    "reset_affine",
    "spatial_expected",
    "value_shape_error",
]


def _ntuple(n: int, name: str = "parse"):
    """A converter: an iterable becomes a tuple as is, a scalar is repeated ``n`` times."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """``(a, b)`` -> ``(b, b, a, a)`` for n=2: per-dim padding in F.pad's (last dim first)
    order."""
    return tuple(x for x in reversed(t) for _ in range(n))


class InputValueError(ModuleInputError, ValueError):
    """A layer's shape error where torch raises ``ValueError`` (e.g. BatchNorm2d given a 3-D
    input): it names the layer and its path like every ``ModuleInputError`` and is still caught
    by ``except ValueError``."""


def value_shape_error(module, shape, expected: str) -> InputValueError:
    """``BatchNorm2d(3, ...) got input of shape (2, 3, 4); expected (N, 3, H, W)``."""
    return InputValueError(module, f"got input of shape {tuple(shape)}; expected {expected}")


def input_shape(module, input) -> tuple:
    """``input``'s shape; a TypeError naming the layer when it is not a Tensor."""
    try:
        return input._data.shape
    except AttributeError:
        raise TypeError(f"{type(module).__name__}.forward(): argument 'input' must be Tensor, "
                        f"not {type(input).__name__}") from None


SPATIAL_AXES = ("", "L", "H, W", "D, H, W")
"""Names of the spatial axes, by their number, in the expected-shape text of shape errors."""


def spatial_expected(nd: int, channels="C") -> str:
    """``'(N, C, H, W) or (C, H, W)'``: a batched or unbatched input with ``nd`` spatial axes."""
    sp = SPATIAL_AXES[nd]
    return f"(N, {channels}, {sp}) or ({channels}, {sp})"


def check_spatial_input(module, input, nd: int, channels="C", error=shape_error) -> tuple:
    """``input``'s shape, which must be ``(N, C, *S)`` or ``(C, *S)`` with ``nd`` spatial axes;
    otherwise ``error`` (``shape_error``, or ``value_shape_error`` where torch raises
    ``ValueError``) naming the layer."""
    shape = input_shape(module, input)
    if len(shape) not in (nd + 1, nd + 2):
        raise error(module, shape, spatial_expected(nd, channels))
    return shape


def make_weight_bias(module, weight_shape, bias: bool, bias_shape, device, dtype) -> None:
    """Register the Parameters ``weight`` of ``weight_shape`` and ``bias`` of ``bias_shape``
    (None where ``bias`` is off), in that order, uninitialized: the layer's
    ``reset_parameters`` fills them."""
    from ..._creation import empty
    from ..parameter import Parameter

    module.weight = Parameter(empty(weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(empty(bias_shape, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def make_affine(module, shape, affine: bool, bias: bool, device, dtype) -> None:
    """Register ``weight`` and ``bias`` Parameters of ``shape`` (uninitialized; the layer's
    ``reset_parameters`` fills them), or None where ``affine`` / ``bias`` is off."""
    if affine:
        make_weight_bias(module, shape, bias, shape, device, dtype)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_fan_in_uniform_(weight, bias, *, draw_bias_without_fan_in: bool = True) -> None:
    """The default ``reset_parameters`` of Linear and the conv layers, in torch's order:
    ``weight`` from ``kaiming_uniform_(a=sqrt(5))``, which is U(+-1/sqrt(fan_in)) written as
    torch writes it (gain sqrt(2 / (1 + 5)) times sqrt(3 / fan_in): the same float steps keep
    the draws bit-identical to torch's), then ``bias`` (if any) from U(+-1/sqrt(fan_in)).

    With fan_in 0, Linear still draws the bias (from U(0, 0)); the conv layers leave it as is
    (``draw_bias_without_fan_in=False``), as torch does."""
    from .. import init

    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        if fan_in == 0 and not draw_bias_without_fan_in:
            return
        uniform_within_(1 / math.sqrt(fan_in) if fan_in > 0 else 0, bias)


def uniform_within_(bound: float, *tensors) -> None:
    """Fill each tensor in turn from U(-bound, bound) (one draw after the other, as torch's
    ``reset_parameters`` loops do)."""
    from .. import init

    for t in tensors:
        init.uniform_(t, -bound, bound)
def reset_affine(module, affine: bool) -> None:
    """The reset of ``make_affine``'s parameters: weight <- 1, bias <- 0 (if any), when
    ``affine``."""
    from .. import init

    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)
