"""Pooling layers (torch.nn.modules.pooling): max, average, adaptive, unpooling and power
average pooling in 1, 2 and 3 spatial dimensions.

Each family is one N-d class (``_MaxPoolNd``, ``_AvgPoolNd``, ...) whose forward calls the op of
its dimension from lamina/ops/pool.py (windowed views, no Python loops over pixels); the
1d/2d/3d classes only set ``_nd`` and, where torch does, normalize their arguments to tuples so
that the reprs match torch's text.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops import pool as _P
from ..module import Module
from .utils import _pair, _single, _triple, check_spatial_input

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d",
    "LPPool2d", "LPPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
    "MaxUnpool3d",
]

_TUPLE = (None, _single, _pair, _triple)


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices",
                     "ceil_mode"]
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))

    def forward(self, input: Tensor):
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._max_pool(nd, f"max_pool{nd}d", input, self.kernel_size, self.stride,
                            self.padding, self.dilation, self.ceil_mode, self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, L)`` / ``(C, L)``.

    Args:
        kernel_size: window size.
        stride: window step (default: kernel_size).
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: spacing between window elements.
        return_indices: also return the flat argmax positions (for ``MaxUnpool1d``).
        ceil_mode: round the output size up instead of down.

    Example:
        >>> import lamina as torch
        >>> torch.nn.MaxPool1d(3, stride=2)(torch.randn(20, 16, 50)).shape
        lamina.Size([20, 16, 24])
    """

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, H, W)`` / ``(C, H, W)``; arguments as
    ``MaxPool1d`` (int or pair).

    Example:
        >>> import lamina as torch
        >>> torch.nn.MaxPool2d(2)(torch.randn(1, 3, 8, 8)).shape
        lamina.Size([1, 3, 4, 4])
    """

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, D, H, W)`` / ``(C, D, H, W)``; arguments as
    ``MaxPool1d`` (int or triple)."""

    _nd = 3


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        t = _TUPLE[self._nd]
        self.kernel_size = t(kernel_size)
        self.stride = t(stride if (stride is not None) else kernel_size)
        self.padding = t(padding)

    def extra_repr(self) -> str:
        return "kernel_size={kernel_size}, stride={stride}, padding={padding}".format(
            **self.__dict__)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._max_unpool(nd, f"max_unpool{nd}d", input, indices, self.kernel_size,
                              self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: each value goes back to its argmax position (from
    ``return_indices=True``), the rest is zero. ``forward(input, indices, output_size=None)``.

    Example:
        >>> import lamina as torch
        >>> pool = torch.nn.MaxPool1d(2, return_indices=True)
        >>> out, idx = pool(torch.tensor([[[1., 2, 3, 4]]]))
        >>> torch.nn.MaxUnpool1d(2)(out, idx)
        tensor([[[0., 2., 0., 4.]]])
    """

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d``; see ``MaxUnpool1d``."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``; see ``MaxUnpool1d``."""

    _nd = 3


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        if self._nd == 1:
            # torch's AvgPool1d stores 1-tuples (and has no divisor_override)
            kernel_size = _single(kernel_size)
            stride = _single(stride if stride is not None else kernel_size)
            padding = _single(padding)
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        if self._nd > 1:
            self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._avg_pool(nd, f"avg_pool{nd}d", input, self.kernel_size, self.stride,
                            self.padding, self.ceil_mode, self.count_include_pad,
                            getattr(self, "divisor_override", None))


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, L)`` / ``(C, L)``.

    Args:
        kernel_size, stride (default: kernel_size), padding: as ``MaxPool1d``.
        ceil_mode: round the output size up.
        count_include_pad: count the zero padding in the divisor (default True).

    Example:
        >>> import lamina as torch
        >>> torch.nn.AvgPool1d(3, stride=2)
        AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
    """

    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, H, W)`` / ``(C, H, W)``; arguments as
    ``AvgPool1d`` plus ``divisor_override`` (divide every window sum by this instead).

    Example:
        >>> import lamina as torch
        >>> torch.nn.AvgPool2d(2)(torch.ones(1, 1, 4, 4)).shape
        lamina.Size([1, 1, 2, 2])
    """

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, D, H, W)`` / ``(C, D, H, W)``; arguments as
    ``AvgPool2d``."""

    _nd = 3


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]
    _nd = 2

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))

    def forward(self, input: Tensor) -> Tensor:
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._lp_pool(nd, input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(sum over window x^p)^(1/p)`` over ``(N, C, L)``; p = inf is
    max pooling, p = 1 sum pooling.

    Example:
        >>> import lamina as torch
        >>> torch.nn.LPPool1d(2, 3, stride=2)(torch.randn(20, 16, 50)).shape
        lamina.Size([20, 16, 24])
    """

    _nd = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling over ``(N, C, H, W)``; see ``LPPool1d``."""

    _nd = 2


class LPPool3d(_LPPoolNd):
    """Power-average pooling over ``(N, C, D, H, W)``; see ``LPPool1d``."""

    _nd = 3


class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]
    _nd = 2

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor):
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._adaptive_max(nd, f"adaptive_max_pool{nd}d", input, self.output_size,
                                self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed ``output_size`` whatever the input length.

    Example:
        >>> import lamina as torch
        >>> torch.nn.AdaptiveMaxPool1d(5)(torch.randn(1, 64, 8)).shape
        lamina.Size([1, 64, 5])
    """

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed ``output_size`` (int or (H, W); None keeps that axis)."""

    _nd = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed ``output_size`` (int or (D, H, W))."""

    _nd = 3


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]
    _nd = 2

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor:
        nd = self._nd
        check_spatial_input(self, input, nd)
        return _P._adaptive_avg(nd, f"adaptive_avg_pool{nd}d", input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed ``output_size`` whatever the input length.

    Example:
        >>> import lamina as torch
        >>> torch.nn.AdaptiveAvgPool1d(5)(torch.randn(1, 64, 8)).shape
        lamina.Size([1, 64, 5])
    """

    _nd = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed ``output_size`` (int or (H, W); None keeps that axis).

    Example:
        >>> import lamina as torch
        >>> torch.nn.AdaptiveAvgPool2d((1, 1))(torch.randn(2, 8, 7, 7)).shape
        lamina.Size([2, 8, 1, 1])
    """

    _nd = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed ``output_size`` (int or (D, H, W))."""

    _nd = 3
