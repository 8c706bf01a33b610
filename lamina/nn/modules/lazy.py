"""The lazy layers (torch's LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*,
LazyInstanceNorm*) and torch's path ``nn.modules.lazy.LazyModuleMixin``.

Each is its plain layer with the input size left open: ``LazyLinear(256)`` is a
``Linear(?, 256)`` whose ``in_features`` is the last dimension of its first input; the conv and
norm layers take their channel count from the input's channel dimension (batched or not). At
that first call the layer materializes (see lamina/nn/lazy.py) and becomes the plain class.
Only the dimension the parameters need is inferred: a LazyLinear accepts any leading
dimensions, a LazyConv2d any spatial size, exactly as the plain layers do.
"""

from __future__ import annotations

from ... import _dtype as _D
from ..._creation import tensor as _tensor
from .._errors import shape_error
from ..lazy import LazyModuleMixin
from ..module import Module, _size_str
from ..parameter import UninitializedBuffer, UninitializedParameter
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _expected, _NormBase
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .utils import input_shape, value_shape_error

__all__ = [
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "LazyLinear",
    "LazyModuleMixin",
]


def _mismatch(module, key: str, got, expected: str) -> str:
    """One line of load_state_dict's error for a checkpoint shape a lazy layer cannot take."""
    return (f"size mismatch for {key}: copying a param with shape {_size_str(got)} from checkpoint, "
            f"the shape in current model is {expected} ({module._lazy_short_repr()}, not "
            f"materialized yet).")


# ---------------------------------------------------------------------------- Linear
class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is inferred from its first input's last
    dimension (torch.nn.LazyLinear).

    Until then ``weight`` and ``bias`` are :class:`UninitializedParameter` s and the repr says
    ``in_features=0``. At the first call (or ``load_state_dict``, or
    ``lamina.nn.utils.materialize``) the parameters get their shapes in place, torch's default
    initialization runs (then any ``nn.init`` call made on them before), and the module becomes
    a :class:`Linear`.

    Args:
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        device, dtype: where and how the parameters will be created.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.LazyLinear(30)
        >>> m(torch.randn(128, 20)).shape
        lamina.Size([128, 30])
        >>> m
        Linear(in_features=20, out_features=30, bias=True)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        d = self.__dict__
        d["in_features"] = 0
        d["out_features"] = out_features
        w = UninitializedParameter(device=device, dtype=dtype)
        Module.register_parameter(self, "weight", w)
        w._claim(self, "weight")
        if bias:
            b = UninitializedParameter(device=device, dtype=dtype)
            Module.register_parameter(self, "bias", b)
            b._claim(self, "bias")
        else:
            Module.register_parameter(self, "bias", None)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        """Infer ``in_features`` from ``input``'s last dimension, materialize and reset."""
        if self.has_uninitialized_params():
            self._lazy_build(self._lazy_infer_input(input))

    def _lazy_infer_input(self, input) -> dict:
        shape = input_shape(self, input)
        if not shape:
            raise shape_error(self, shape, "(*, in_features)")
        return {"in_features": shape[-1]}

    def _lazy_infer_state(self, shapes: dict, prefix: str):
        out = self.out_features
        problems = []
        w, b = shapes.get("weight"), shapes.get("bias")
        if w is not None and (len(w) != 2 or w[0] != out):
            problems.append(_mismatch(self, prefix + "weight", w, f"({out}, in_features)"))
        if b is not None and b != (out,):
            problems.append(_mismatch(self, prefix + "bias", b, _size_str((out,))))
        if w is None and not problems:
            problems.append(f"cannot materialize {prefix or 'the module'} "
                            f"({self._lazy_short_repr()}) from the checkpoint: "
                            f"'{prefix}weight' is needed to infer in_features")
        return (None if problems else {"in_features": w[1]}), problems

    def _lazy_build(self, attrs: dict) -> None:
        self.in_features = n = attrs["in_features"]
        self.weight.materialize((self.out_features, n))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _lazy_short_repr(self) -> str:
        return f"LazyLinear(out_features={self.out_features})"

    def _lazy_waits_for(self) -> str:
        return "in_features: the size of the input's last dimension"


# ---------------------------------------------------------------------------- convolutions
class _LazyConvXdMixin(LazyModuleMixin):
    """What the six lazy convolutions share: ``in_channels`` is the size of the input's
    channel dimension (dim 1 of a batched input, dim 0 of an unbatched one)."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        # the plain class's __init__ with 0 channels and no bias, then the pending parameters
        self.cls_to_become.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups,
                                    False, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, device, dtype)

    def _lazy_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        # the plain __init__ ran with 0 channels (no parameters to speak of); now the real
        # out_channels and pending parameters
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Infer ``in_channels`` from ``input``'s channel dimension, materialize and reset."""
        if self.has_uninitialized_params():
            self._lazy_build(self._lazy_infer_input(input))

    def _get_num_spatial_dims(self) -> int:
        return self._nd

    def _get_in_channels(self, input) -> int:
        return self._lazy_infer_input(input)["in_channels"]

    def _lazy_infer_input(self, input) -> dict:
        shape = input_shape(self, input)
        nd = self._nd
        if len(shape) not in (nd + 1, nd + 2):
            sp = ("L", "H, W", "D, H, W")[nd - 1]
            raise shape_error(self, shape, f"(N, C_in, {sp}) or (C_in, {sp})")
        c = shape[1] if len(shape) == nd + 2 else shape[0]
        if c % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        return {"in_channels": c}

    def _weight_shape(self, c: int) -> tuple:
        if self.transposed:
            return (c, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, c // self.groups, *self.kernel_size)

    def _lazy_infer_state(self, shapes: dict, prefix: str):
        out, g, k = self.out_channels, self.groups, tuple(self.kernel_size)
        problems = []
        w, b = shapes.get("weight"), shapes.get("bias")
        c = None
        if w is not None:
            if self.transposed:
                ok = len(w) == len(k) + 2 and w[1] == out // g and w[2:] == k and w[0] % g == 0
                c = w[0]
                expected = f"(in_channels, {out // g}, {', '.join(map(str, k))})"
            else:
                ok = len(w) == len(k) + 2 and w[0] == out and w[2:] == k
                c = w[1] * g if len(w) > 1 else None
                expected = f"({out}, in_channels/{g}, {', '.join(map(str, k))})" if g != 1 \
                    else f"({out}, in_channels, {', '.join(map(str, k))})"
            if not ok:
                problems.append(_mismatch(self, prefix + "weight", w, expected))
        if b is not None and b != (out,):
            problems.append(_mismatch(self, prefix + "bias", b, _size_str((out,))))
        if w is None and not problems:
            problems.append(f"cannot materialize {prefix or 'the module'} "
                            f"({self._lazy_short_repr()}) from the checkpoint: "
                            f"'{prefix}weight' is needed to infer in_channels")
        return (None if problems else {"in_channels": c}), problems

    def _lazy_build(self, attrs: dict) -> None:
        self.in_channels = c = attrs["in_channels"]
        self.weight.materialize(self._weight_shape(c))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _lazy_short_repr(self) -> str:
        return (f"{type(self).__name__}(out_channels={self.out_channels}, "
                f"kernel_size={tuple(self.kernel_size)})")

    def _lazy_waits_for(self) -> str:
        return ("in_channels: the size of the input's channel dimension (dim 1, or dim 0 of an "
                "unbatched input)")


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` is inferred from its first input's channel
    dimension (torch.nn.LazyConv1d); arguments as Conv1d without ``in_channels``.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.LazyConv1d(4, 3)
        >>> m(torch.randn(2, 5, 10)).shape
        lamina.Size([2, 4, 8])
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` is inferred from its first input's channel
    dimension (torch.nn.LazyConv2d); arguments as Conv2d without ``in_channels``.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.LazyConv2d(4, 3)
        >>> m(torch.randn(2, 5, 8, 8)).shape
        lamina.Size([2, 4, 6, 6])
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` is inferred from its first input's channel
    dimension (torch.nn.LazyConv3d); arguments as Conv3d without ``in_channels``."""

    cls_to_become = Conv3d


class _LazyConvTransposeXdMixin(_LazyConvXdMixin):
    """The lazy transposed convolutions: ConvTranspose's argument order."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        self.cls_to_become.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                    groups, False, dilation, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvTransposeXdMixin, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` is inferred from its first input's
    channel dimension (torch.nn.LazyConvTranspose1d)."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeXdMixin, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` is inferred from its first input's
    channel dimension (torch.nn.LazyConvTranspose2d)."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeXdMixin, ConvTranspose3d):
    """A :class:`ConvTranspose3d` whose ``in_channels`` is inferred from its first input's
    channel dimension (torch.nn.LazyConvTranspose3d)."""

    cls_to_become = ConvTranspose3d


# ---------------------------------------------------------------------------- normalization
class _LazyNormBase(LazyModuleMixin, _NormBase):
    """What the lazy batch and instance norms share: ``num_features`` is the size of the
    input's channel dimension; weight, bias, running_mean and running_var wait for it."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        # affine and track_running_stats off: the plain __init__ creates no tensors
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _tensor(0, dtype=_D.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        """Infer ``num_features`` from ``input``'s channel dimension, materialize and reset."""
        if self.has_uninitialized_params():
            self._lazy_build(self._lazy_infer_input(input))

    def _lazy_materialize(self, args, kwargs) -> None:
        if not self.has_uninitialized_params() and self.num_features == 0 and args:
            # no affine parameters and no running stats: nothing is pending, but the plain
            # layer still wants num_features (torch leaves 0, and then warns at every call)
            self.num_features = self._lazy_infer_input(args[0])["num_features"]
        super()._lazy_materialize(args, kwargs)

    def _lazy_infer_state(self, shapes: dict, prefix: str):
        problems = []
        sizes = set()
        for name, shape in shapes.items():
            if len(shape) != 1:
                problems.append(_mismatch(self, prefix + name, shape, "(num_features,)"))
            else:
                sizes.add(shape[0])
        if len(sizes) > 1:
            got = ", ".join(f"'{prefix}{n}' {_size_str(s)}" for n, s in shapes.items())
            problems.append(f"cannot materialize {prefix or 'the module'} "
                            f"({self._lazy_short_repr()}) from the checkpoint: its tensors "
                            f"disagree on num_features: {got}")
        return (None if problems else {"num_features": sizes.pop()}), problems

    def _lazy_build(self, attrs: dict) -> None:
        self.num_features = c = attrs["num_features"]
        for t in (self.weight, self.bias, self.running_mean, self.running_var):
            if t is not None:
                t.materialize((c,))
        self.reset_parameters()

    def _lazy_short_repr(self) -> str:
        return f"{type(self).__name__}()"


class _LazyBatchNorm(_LazyNormBase):
    def _lazy_infer_input(self, input) -> dict:
        shape = input_shape(self, input)
        if len(shape) not in self._ranks:
            raise value_shape_error(self, shape, _expected("C", self._ranks))
        return {"num_features": shape[1]}

    def _lazy_waits_for(self) -> str:
        return "num_features: the size of the input's dim 1"


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """A :class:`BatchNorm1d` whose ``num_features`` is inferred from its first input's dim 1
    (torch.nn.LazyBatchNorm1d); arguments as BatchNorm1d without ``num_features``.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.LazyBatchNorm1d()
        >>> m(torch.randn(4, 3)).shape
        lamina.Size([4, 3])
        >>> m
        BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """A :class:`BatchNorm2d` whose ``num_features`` is inferred from its first input's dim 1
    (torch.nn.LazyBatchNorm2d)."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """A :class:`BatchNorm3d` whose ``num_features`` is inferred from its first input's dim 1
    (torch.nn.LazyBatchNorm3d)."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    def _lazy_infer_input(self, input) -> dict:
        shape = input_shape(self, input)
        nb = self._no_batch_dim
        if len(shape) not in (nb, nb + 1):
            sp = ("L", "H, W", "D, H, W")[nb - 2]
            raise value_shape_error(self, shape, f"(N, C, {sp}) or (C, {sp})")
        # the channel dim of an unbatched input is dim 0 (torch reads dim 1 there)
        return {"num_features": shape[0] if len(shape) == nb else shape[1]}

    def _lazy_waits_for(self) -> str:
        return ("num_features: the size of the input's channel dimension (dim 1, or dim 0 of "
                "an unbatched input)")


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An :class:`InstanceNorm1d` whose ``num_features`` is inferred from its first input's
    channel dimension (torch.nn.LazyInstanceNorm1d). As in torch, ``affine`` and
    ``track_running_stats`` default to True here."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An :class:`InstanceNorm2d` whose ``num_features`` is inferred from its first input's
    channel dimension (torch.nn.LazyInstanceNorm2d)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An :class:`InstanceNorm3d` whose ``num_features`` is inferred from its first input's
    channel dimension (torch.nn.LazyInstanceNorm3d)."""

    cls_to_become = InstanceNorm3d
