"""Padding layers (torch.nn.modules.padding): constant (and zero), reflection, replication and
circular padding in 1, 2 and 3 dimensions.

Every layer is one ``F.pad`` call (lamina/ops/sampling.py for the non-constant modes). The
padding argument becomes a tuple of ``2 * nd`` ints in F.pad's order (last axis first:
left, right, top, bottom, front, back); an int pads every side by the same amount.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.sampling import pad as _pad
from ..module import Module
from .utils import _ntuple, _pair, _quadruple, check_spatial_input, value_shape_error

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]

_SIDES = (None, _pair, _quadruple, _ntuple(6, "_sextuple"))


class _PadNd(Module):
    """One N-d padding layer: ``_nd`` spatial dims, ``_mode`` F.pad's mode."""

    __constants__ = ["padding"]
    _nd = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _SIDES[self._nd](padding)

    def forward(self, input: Tensor) -> Tensor:
        # torch checks the rank for these modes (ValueError); constant padding takes any rank
        check_spatial_input(self, input, self._nd, error=value_shape_error)
        return _pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class CircularPad1d(_CircularPadNd):
    """Pad the last axis of ``(N, C, L)`` / ``(C, L)`` by wrapping around.

    Args:
        padding: int (both sides) or (left, right).

    Example:
        >>> import lamina as torch
        >>> torch.nn.CircularPad1d(2)(torch.arange(4.).reshape(1, 1, 4))
        tensor([[[2., 3., 0., 1., 2., 3., 0., 1.]]])
    """

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Circular padding of the last two axes; padding int or (left, right, top, bottom)."""

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Circular padding of the last three axes; padding int or a 6-tuple."""

    _nd = 3


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last axis by reflecting the input at its border (the edge is not repeated).

    Example:
        >>> import lamina as torch
        >>> torch.nn.ReflectionPad1d(2)(torch.arange(4.).reshape(1, 1, 4))
        tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """

    _nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Reflection padding of the last two axes; padding int or (left, right, top, bottom)."""

    _nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Reflection padding of the last three axes; padding int or a 6-tuple."""

    _nd = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last axis by repeating the edge value.

    Example:
        >>> import lamina as torch
        >>> torch.nn.ReplicationPad1d(2)(torch.arange(4.).reshape(1, 1, 4))
        tensor([[[0., 0., 0., 1., 2., 3., 3., 3.]]])
    """

    _nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Replication padding of the last two axes; padding int or (left, right, top, bottom)."""

    _nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Replication padding of the last three axes; padding int or a 6-tuple."""

    _nd = 3


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with a constant ``value``; padding int or (left, right).

    Example:
        >>> import lamina as torch
        >>> torch.nn.ConstantPad1d(2, 3.5)
        ConstantPad1d(padding=(2, 2), value=3.5)
    """

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Constant padding of the last two axes; padding int or (left, right, top, bottom)."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Constant padding of the last three axes; padding int or a 6-tuple."""

    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last axis with zeros; padding int or (left, right).

    Example:
        >>> import lamina as torch
        >>> torch.nn.ZeroPad1d((1, 2))(torch.ones(1, 1, 2))
        tensor([[[0., 1., 1., 0., 0.]]])
    """

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Zero padding of the last two axes; padding int or (left, right, top, bottom).

    Example:
        >>> import lamina as torch
        >>> torch.nn.ZeroPad2d(1)(torch.ones(1, 1, 2, 2)).shape
        lamina.Size([1, 1, 4, 4])
    """

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Zero padding of the last three axes; padding int or a 6-tuple."""

    _nd = 3
