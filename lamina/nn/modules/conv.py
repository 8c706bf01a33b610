"""Convolution layers (torch.nn.modules.conv): Conv1d/2d/3d and ConvTranspose1d/2d/3d.

One N-d implementation, ``_ConvNd``, holds the parameters, the initialization, the repr and the
forward; ``Conv1d``/``Conv2d``/``Conv3d`` only fix the number of spatial dimensions (and turn
int arguments into tuples), as do the transposed variants over ``_ConvTransposeNd``. The math
is lamina/ops/conv.py (im2col + one GEMM).
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops import conv as _conv_ops
from ...ops.sampling import pad as _pad
from .._errors import shape_error
from ..module import Module
from .utils import (_pair, _reverse_repeat_tuple, _single, _triple, input_shape,
                    make_weight_bias, reset_fan_in_uniform_)

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class _ConvNd(Module):
    """Base of every convolution: parameters, torch's default init, repr and forward.

    Subclasses set ``_nd`` (number of spatial dims). ``in_channels`` and ``out_channels`` may be
    0 (lazy modules fill them in and call ``reset_parameters()``).
    """

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding",
                     "in_channels", "out_channels", "kernel_size"]
    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple, stride: tuple,
                 padding: str | tuple, dilation: tuple, transposed: bool, output_padding: tuple,
                 groups: int, bias: bool, padding_mode: str, device=None, dtype=None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {{'zeros', 'replicate', 'reflect', "
                             f"'circular'}}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            rp = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    rp[2 * i] = total // 2
                    rp[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = rp
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        make_weight_bias(self, shape, bias, out_channels, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight then bias from the default generator, in torch's order (fan_in =
        in_channels / groups * prod(kernel_size))."""
        reset_fan_in_uniform_(self.weight, self.bias, draw_bias_without_fan_in=False)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _check_input(self, input) -> None:
        """Raise the layer's shape error unless input is (N, C_in, *S) or (C_in, *S)."""
        shape = input_shape(self, input)
        nd = self._nd
        c = self.in_channels
        if len(shape) not in (nd + 1, nd + 2) or shape[-nd - 1] != c:
            sp = _SPATIAL[nd]
            raise shape_error(self, shape, f"(N, {c}, {sp}) or ({c}, {sp})")

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        self._check_input(input)
        nd = self._nd
        if self.padding_mode != "zeros":
            input = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return _conv_ops._convnd(nd, f"conv{nd}d", input, weight, bias, self.stride, 0,
                              self.dilation, self.groups)
        return _conv_ops._convnd(nd, f"conv{nd}d", input, weight, bias, self.stride, self.padding,
                          self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` or ``(C_in, L)``.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, ``'same'`` or ``'valid'`` (default 0).
        groups: blocked connections from input to output channels (default 1).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Attributes:
        weight: (out_channels, in_channels/groups, k) from U(-b, b), b = 1/sqrt(fan_in),
            fan_in = in_channels/groups * k.
        bias: (out_channels,) from the same distribution.

    Example:
        >>> import lamina as torch
        >>> torch.nn.Conv1d(16, 33, 3, stride=2)(torch.randn(20, 16, 50)).shape
        lamina.Size([20, 33, 24])
    """

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _single(kernel_size),
                         _single(stride),
                         padding if isinstance(padding, str) else _single(padding),
                         _single(dilation), False, (0,), groups, bias, padding_mode,
                         device, dtype)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)``.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: int or 2-tuple.
        padding: int, 2-tuple, ``'same'`` or ``'valid'`` (default 0).
        groups: blocked connections; ``groups == in_channels`` is a depthwise convolution.
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        - Output: ``(N, C_out, H_out, W_out)`` with
          ``H_out = (H + 2*padding - dilation*(kernel-1) - 1) // stride + 1``.

    Attributes:
        weight: (out_channels, in_channels/groups, kh, kw) from U(-b, b), b = 1/sqrt(fan_in),
            fan_in = in_channels/groups * kh * kw.
        bias: (out_channels,) from the same distribution.

    Example:
        >>> import lamina as torch
        >>> torch.nn.Conv2d(3, 8, 3, padding=1)(torch.randn(2, 3, 28, 28)).shape
        lamina.Size([2, 8, 28, 28])
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _pair(kernel_size),
                         _pair(stride),
                         padding if isinstance(padding, str) else _pair(padding),
                         _pair(dilation), False, (0, 0), groups, bias, padding_mode,
                         device, dtype)


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``; arguments as
    ``Conv2d`` with 3-tuples.

    Example:
        >>> import lamina as torch
        >>> torch.nn.Conv3d(2, 4, 3)(torch.randn(1, 2, 5, 6, 7)).shape
        lamina.Size([1, 4, 3, 4, 5])
    """

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _triple(kernel_size),
                         _triple(stride),
                         padding if isinstance(padding, str) else _triple(padding),
                         _triple(dilation), False, (0, 0, 0), groups, bias, padding_mode,
                         device, dtype)


class _ConvTransposeNd(_ConvNd):
    """Base of the transposed convolutions (the gradient of a convolution w.r.t. its input).

    The weight is ``(in_channels, out_channels/groups, *kernel_size)``; only zero padding.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{self.__class__.__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None) -> tuple:
        """The output_padding that makes the output ``output_size`` (torch's rule)."""
        if output_size is None:
            return tuple(self.output_padding)
        output_size = [int(v) for v in output_size]
        has_batch = input.ndim == num_spatial_dims + 2
        nn_dims = 2 if has_batch else 1
        if len(output_size) == nn_dims + num_spatial_dims:
            output_size = output_size[nn_dims:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.ndim}D input, "
                             f"output_size must have {num_spatial_dims} or "
                             f"{nn_dims + num_spatial_dims} elements (got {len(output_size)})")
        mins, maxs = [], []
        for d in range(num_spatial_dims):
            size = ((input.shape[d + nn_dims] - 1) * stride[d] - 2 * padding[d]
                    + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1) + 1)
            mins.append(size)
            maxs.append(size + stride[d] - 1)
        for i, size in enumerate(output_size):
            if size < mins[i] or size > maxs[i]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {mins} to {maxs} (for an input of "
                                 f"{input.shape[nn_dims:]})")
        return tuple(output_size[d] - mins[d] for d in range(num_spatial_dims))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check_input(input)
        nd = self._nd
        op = self._output_padding(input, output_size, self.stride, self.padding,
                                  self.kernel_size, nd, self.dilation)
        return _conv_ops._conv_transpose_nd(nd, f"conv_transpose{nd}d", input, self.weight, self.bias,
                                     self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution ("deconvolution") over ``(N, C_in, L)`` or ``(C_in, L)``.

    Output length ``(L-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1``.
    ``forward(input, output_size=None)`` can pick output_padding from a wanted size.

    Example:
        >>> import lamina as torch
        >>> torch.nn.ConvTranspose1d(4, 2, 3, stride=2)(torch.randn(1, 4, 5)).shape
        lamina.Size([1, 2, 11])
    """

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _single(kernel_size),
                         _single(stride), _single(padding), _single(dilation), True,
                         _single(output_padding), groups, bias, padding_mode, device, dtype)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution") over ``(N, C_in, H, W)`` or
    ``(C_in, H, W)``; arguments as ``ConvTranspose1d`` with 2-tuples.

    Attributes:
        weight: (in_channels, out_channels/groups, kh, kw) from U(-b, b), b = 1/sqrt(fan_in),
            fan_in = out_channels/groups * kh * kw (torch's convention).

    Example:
        >>> import lamina as torch
        >>> up = torch.nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)
        >>> up(torch.randn(1, 16, 12, 12), output_size=[24, 24]).shape
        lamina.Size([1, 8, 24, 24])
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _pair(kernel_size),
                         _pair(stride), _pair(padding), _pair(dilation), True,
                         _pair(output_padding), groups, bias, padding_mode, device, dtype)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution ("deconvolution"); arguments as ``ConvTranspose1d`` with
    3-tuples.

    Example:
        >>> import lamina as torch
        >>> torch.nn.ConvTranspose3d(2, 3, 2, stride=2)(torch.randn(1, 2, 3, 3, 3)).shape
        lamina.Size([1, 3, 6, 6, 6])
    """

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _triple(kernel_size),
                         _triple(stride), _triple(padding), _triple(dilation), True,
                         _triple(output_padding), groups, bias, padding_mode, device, dtype)
