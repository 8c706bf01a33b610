"""Identity, Linear and Bilinear (torch.nn.modules.linear)."""

from __future__ import annotations

import math
from typing import Any

from ..._tensor import Tensor
from ...ops.linalg import input_type_error as _input_type_error
from ...ops.linalg import linear_checked as _linear_checked
from .. import functional as F
from .._errors import ModuleInputError, shape_error
from ..module import Module
from .utils import make_weight_bias, reset_fan_in_uniform_, uniform_within_

__all__ = ["Identity", "Linear", "Bilinear", "NonDynamicallyQuantizableLinear"]


class Identity(Module):
    """Returns its input unchanged; accepts (and ignores) any constructor arguments.

    Example:
        >>> import lamina as torch
        >>> x = torch.randn(2, 3)
        >>> torch.nn.Identity(54, unused="x")(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b, one fused autograd node (``AddmmBackward0`` for 2-D input).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        device, dtype: where and how the parameters are created.

    Shape:
        - Input: (*, in_features). Output: (*, out_features).

    Attributes:
        weight: (out_features, in_features), drawn from U(-1/sqrt(in_features),
            1/sqrt(in_features)).
        bias: (out_features,), drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.Linear(20, 30)
        >>> m(torch.randn(128, 20)).shape
        lamina.Size([128, 30])
    """

    __constants__ = ["in_features", "out_features"]
    in_features: int
    out_features: int
    weight: Tensor

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        make_weight_bias(self, (out_features, in_features), bias, out_features, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight then bias from the default generator, in torch's order."""
        reset_fan_in_uniform_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        # F.linear after a shape check that names this layer
        w = self.weight
        try:
            x = input._data
        except AttributeError:
            raise _input_type_error(input) from None
        wd = w._data
        s = x.shape
        if not s or s[-1] != wd.shape[1]:
            raise shape_error(self, s, f"(*, {self.in_features})")
        return _linear_checked(input, x, w, wd, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1^T A x2 + b.

    Args:
        in1_features, in2_features: sizes of the two inputs' last dims.
        out_features: size of the output's last dim.
        bias: learn an additive bias (default True).

    Shape:
        - Input1: (*, in1_features), Input2: (*, in2_features) with the same leading dims.
        - Output: (*, out_features).

    Attributes:
        weight: (out_features, in1_features, in2_features) from U(-1/sqrt(in1), 1/sqrt(in1)).
        bias: (out_features,) from the same distribution.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.Bilinear(20, 30, 40)
        >>> m(torch.randn(128, 20), torch.randn(128, 30)).shape
        lamina.Size([128, 40])
    """

    __constants__ = ["in1_features", "in2_features", "out_features"]

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        make_weight_bias(self, (out_features, in1_features, in2_features), bias, out_features,
                         device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight then bias from U(+-1/sqrt(in1_features)), in torch's order."""
        bound = 1 / math.sqrt(self.weight.size(1))
        uniform_within_(bound, *(t for t in (self.weight, self.bias) if t is not None))

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        s1, s2 = tuple(input1.shape), tuple(input2.shape)
        if not s1 or not s2 or s1[-1] != self.in1_features or s2[-1] != self.in2_features:
            raise ModuleInputError(
                self, f"got inputs of shapes {s1} and {s2}; expected (*, {self.in1_features}) "
                f"and (*, {self.in2_features})")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name (torch's MultiheadAttention.out_proj class); saved models
    that name ``torch.nn.modules.linear.NonDynamicallyQuantizableLinear`` load."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
