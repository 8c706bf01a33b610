"""Upsampling layers (torch.nn.modules.upsampling): Upsample and its two fixed-mode
shorthands, each one ``F.interpolate`` call (lamina/ops/sampling.py)."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.sampling import interpolate as _interpolate
from ..module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resize ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` inputs to ``size`` or by
    ``scale_factor``.

    Args:
        size: output spatial size (int or tuple).
        scale_factor: multiplier of the spatial size (float or tuple), instead of ``size``.
        mode: 'nearest' (default), 'linear', 'bilinear', 'bicubic', 'trilinear',
            'nearest-exact'.
        align_corners: for the interpolating modes, align the corner pixels of input and
            output (default False).
        recompute_scale_factor: compute the source coordinates from the output size rather
            than from ``scale_factor``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.Upsample(scale_factor=2, mode="nearest")(torch.ones(1, 1, 2, 2)).shape
        lamina.Size([1, 1, 4, 4])
    """

    __constants__ = ["size", "scale_factor", "mode", "align_corners", "name",
                     "recompute_scale_factor"]

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                            recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        info += ", mode=" + repr(self.mode)
        return info


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for ``(N, C, H, W)`` inputs.

    Example:
        >>> import lamina as torch
        >>> torch.nn.UpsamplingNearest2d(scale_factor=2)
        UpsamplingNearest2d(scale_factor=2.0, mode='nearest')
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
