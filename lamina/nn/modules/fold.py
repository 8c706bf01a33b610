"""Fold and Unfold (torch.nn.modules.fold): sliding blocks of a batched image to columns
(im2col) and back, summing overlaps (col2im); lamina/ops/sampling.py."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.sampling import fold as _fold
from ...ops.sampling import unfold as _unfold
from ..module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """``(N, C * prod(kernel_size), L) -> (N, C, *output_size)``: the blocks are placed back
    and overlapping values summed.

    Args:
        output_size: spatial size of the output (int or pair).
        kernel_size, dilation (1), padding (0), stride (1): as in ``Unfold``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(torch.randn(1, 12, 12)).shape
        lamina.Size([1, 3, 4, 5])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return _fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                     self.stride)

    def extra_repr(self) -> str:
        return ("output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, "
                "padding={padding}, stride={stride}".format(**self.__dict__))


class Unfold(Module):
    """``(N, C, H, W) -> (N, C * prod(kernel_size), L)``: every sliding block as a column.

    Args:
        kernel_size: block size (int or pair).
        dilation: spacing of the block elements (default 1).
        padding: implicit zero padding on both sides (default 0).
        stride: block step (default 1).

    Example:
        >>> import lamina as torch
        >>> torch.nn.Unfold(kernel_size=(2, 3))(torch.randn(2, 5, 3, 4)).shape
        lamina.Size([2, 30, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return _unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, dilation={dilation}, padding={padding}, "
                "stride={stride}".format(**self.__dict__))
