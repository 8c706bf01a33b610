"""PixelShuffle and PixelUnshuffle (torch.nn.modules.pixelshuffle): sub-pixel convolution's
rearrangement of channels into space and back (lamina/ops/sampling.py)."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.sampling import pixel_shuffle as _shuffle
from ...ops.sampling import pixel_unshuffle as _unshuffle
from ..module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)`` with ``r = upscale_factor``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.PixelShuffle(3)(torch.randn(1, 9, 4, 4)).shape
        lamina.Size([1, 1, 12, 12])
    """

    __constants__ = ["upscale_factor"]

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)`` with ``r = downscale_factor``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.PixelUnshuffle(3)(torch.randn(1, 1, 12, 12)).shape
        lamina.Size([1, 9, 4, 4])
    """

    __constants__ = ["downscale_factor"]

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
