"""Batch normalization (torch.nn.modules.batchnorm): _NormBase, _BatchNorm, BatchNorm1d/2d/3d.

``_NormBase`` holds what batch and instance norm share: the affine parameters (``weight`` ones,
``bias`` zeros), the running statistics buffers (``running_mean`` zeros, ``running_var`` ones,
``num_batches_tracked`` an int64 scalar), ``reset_parameters`` / ``reset_running_stats``, the
repr and the state_dict version upgrade. ``_BatchNorm`` is the one N-d forward: a single fused
node (lamina/ops/norm.py) that also updates the running statistics in place. The 1d/2d/3d
classes only say which input ranks they take.
"""

from __future__ import annotations

from ... import _dtype as _D
from ..._creation import ones, tensor, zeros
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import norm as _N
from ..module import Module
from .utils import input_shape, make_affine, reset_affine, value_shape_error

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]

_SPATIAL = ("", ", L", ", H, W", ", D, H, W")
"""Names of the spatial axes, by their number, in the expected-shape text of shape errors."""


def _expected(c: int, ranks: tuple) -> str:
    """'(N, 3, H, W)'-style text for each accepted (batched) input rank."""
    return " or ".join(f"(N, {c}{_SPATIAL[r - 2]})" for r in ranks)


class _NormBase(Module):
    """Common base of batch and instance norm: parameters, buffers, resets and repr."""

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]
    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        make_affine(self, num_features, affine, bias, device, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=_D.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean <- 0, running_var <- 1, num_batches_tracked <- 0 (in place)."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, then weight <- 1 and bias <- 0."""
        self.reset_running_stats()
        reset_affine(self, self.affine)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ("{num_features}, eps={eps}, momentum={momentum}, affine={affine}, "
                "bias={use_bias}, track_running_stats={track_running_stats}".format(
                    **self.__dict__, use_bias=self.bias is not None))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed (version 1) lack the key
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                nbt = self.num_batches_tracked
                state_dict[key] = (nbt if nbt is not None and nbt.device.type != "meta"
                                   else tensor(0, dtype=_D.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    """The N-d batch norm forward; subclasses set ``_ranks`` (accepted input ranks).

    Training: normalize with the batch statistics and move the running statistics toward them
    by ``momentum`` (``momentum=None``: a cumulative average, factor 1/num_batches_tracked).
    Eval (with running statistics): normalize with the running statistics.
    """

    _ranks: tuple = (4,)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:
        shape = input_shape(self, input)
        if len(shape) not in self._ranks or shape[1] != self.num_features:
            raise value_shape_error(self, shape, _expected(self.num_features, self._ranks))

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        momentum = self.momentum
        factor = 0.0 if momentum is None else momentum
        training = self.training
        track = self.track_running_stats
        if training and track:
            nbt = self.num_batches_tracked
            if nbt is not None:
                nbt._data += 1
                nbt._version_counter[0] += 1
                if momentum is None:
                    factor = 1.0 / float(nbt._data)
        rm, rv = self.running_mean, self.running_var
        bn_training = True if training else (rm is None and rv is None)
        if training and not track:
            rm = rv = None
        return _N.batch_norm(input, rm, rv, self.weight, self.bias, bn_training, factor,
                             self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)``: per channel,
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: running-statistics update factor (default 0.1); None: cumulative average.
        affine: learn ``weight`` (init 1) and ``bias`` (init 0) (default True).
        bias (keyword only): with ``affine``, learn ``bias`` too (default True).
        track_running_stats: keep ``running_mean`` / ``running_var`` / ``num_batches_tracked``
            buffers and use them in eval mode (default True).

    Example:
        >>> import lamina as torch
        >>> torch.nn.BatchNorm1d(4)(torch.randn(8, 4)).shape
        lamina.Size([8, 4])
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)``, per channel; arguments as ``BatchNorm1d``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.BatchNorm2d(3)
        BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over ``(N, C, D, H, W)``, per channel; arguments as ``BatchNorm1d``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.BatchNorm3d(2)(torch.randn(2, 2, 3, 3, 3)).shape
        lamina.Size([2, 2, 3, 3, 3])
    """

    _ranks = (5,)
