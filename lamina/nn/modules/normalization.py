"""Normalization layers that do not keep running statistics (torch.nn.modules.normalization):
LayerNorm, GroupNorm, RMSNorm and LocalResponseNorm. Each forward is one fused op from
lamina/ops/norm.py (LocalResponseNorm: torch's composition of pooling ops)."""

from __future__ import annotations

import numbers

from ..._creation import empty
from ..._tensor import Tensor
from ...ops import norm as _N
from .. import init
from .._errors import shape_error
from ..module import Module
from ..parameter import Parameter
from .utils import input_shape, make_affine, reset_affine, value_shape_error

__all__ = ["GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"]


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class _TrailingNorm(Module):
    """Shared by LayerNorm and RMSNorm: normalization over the trailing
    ``normalized_shape`` axes with an elementwise ``weight`` (init 1)."""

    normalized_shape: tuple

    def _check(self, input) -> None:
        shape = input_shape(self, input)
        ns = self.normalized_shape
        if len(shape) < len(ns) or tuple(shape[len(shape) - len(ns):]) != ns:
            raise shape_error(self, shape, "(*, " + ", ".join(map(str, ns)) + ")")

    def extra_repr(self) -> str:
        return ("{normalized_shape}, eps={eps}, "
                "elementwise_affine={elementwise_affine}".format(**self.__dict__))


class LayerNorm(_TrailingNorm):
    """Layer norm over the trailing ``normalized_shape`` axes of each sample:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` (biased variance).

    Args:
        normalized_shape: int or shape of the trailing axes to normalize over.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (init 1) and ``bias`` (init 0) (default True).
        bias: learn ``bias`` when affine (default True).

    Example:
        >>> import lamina as torch
        >>> torch.nn.LayerNorm(10)(torch.randn(2, 5, 10)).shape
        lamina.Size([2, 5, 10])
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        make_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def extra_repr(self) -> str:
        return ("{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))

    def reset_parameters(self) -> None:
        """weight <- 1, bias <- 0."""
        reset_affine(self, self.elementwise_affine)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return _N.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)


class RMSNorm(_TrailingNorm):
    """Root-mean-square norm over the trailing ``normalized_shape`` axes:
    ``y = x / sqrt(mean(x^2) + eps) * weight``.

    Args:
        normalized_shape: int or shape of the trailing axes.
        eps: added inside the root; None (default): ``torch.finfo(x.dtype).eps``.
        elementwise_affine: learn ``weight`` (init 1) (default True).

    Example:
        >>> import lamina as torch
        >>> torch.nn.RMSNorm([5, 4])
        RMSNorm((5, 4), eps=None, elementwise_affine=True)
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight <- 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return _N.rms_norm(x, self.normalized_shape, self.weight, self.eps)


class GroupNorm(Module):
    """Group norm: the C channels of ``(N, C, *)`` are split into ``num_groups`` groups, each
    normalized over its channels and spatial positions; per-channel affine.

    Args:
        num_groups: number of groups (divides ``num_channels``).
        num_channels: C.
        eps: added to the variance (default 1e-5).
        affine: learn per-channel ``weight`` (init 1) and ``bias`` (init 0) (default True).
        bias (keyword only): with ``affine``, learn ``bias`` too (default True).

    Example:
        >>> import lamina as torch
        >>> torch.nn.GroupNorm(3, 6)(torch.randn(20, 6, 10, 10)).shape
        lamina.Size([20, 6, 10, 10])
    """

    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        make_affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight <- 1, bias <- 0."""
        reset_affine(self, self.affine)

    def forward(self, input: Tensor) -> Tensor:
        shape = input_shape(self, input)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise shape_error(self, shape, f"(N, {self.num_channels}, *)")
        return _N.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return ("{num_groups}, {num_channels}, eps={eps}, affine={affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet):
    ``b_c = a_c / (k + alpha/n * sum_{c' near c} a_{c'}^2)^beta``.

    Args:
        size: number of neighbouring channels summed.
        alpha, beta, k: the constants of the formula (defaults 1e-4, 0.75, 1.0).

    Example:
        >>> import lamina as torch
        >>> torch.nn.LocalResponseNorm(2)(torch.randn(1, 4, 3, 3)).shape
        lamina.Size([1, 4, 3, 3])
    """

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        shape = input_shape(self, input)
        if len(shape) < 3:
            # torch raises ValueError here
            raise value_shape_error(self, shape, "(N, C, *) with at least one spatial axis")
        return _N.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
