"""Instance normalization (torch.nn.modules.instancenorm): InstanceNorm1d/2d/3d.

Each (sample, channel) plane is normalized with its own statistics. The layers share
``_NormBase`` with batch norm (same parameters, buffers and repr) but default to
``affine=False, track_running_stats=False``; one N-d ``_InstanceNorm`` serves 1d/2d/3d, which
only say how many dims an unbatched input has.
"""

from __future__ import annotations

import warnings

from ..._tensor import Tensor
from ...ops import norm as _N
from .batchnorm import _NormBase
from .utils import check_spatial_input, spatial_expected, value_shape_error

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    """The N-d instance norm forward; subclasses set ``_no_batch_dim`` (rank of an unbatched
    input: 2 for 1d, 3 for 2d, 4 for 3d)."""

    _no_batch_dim = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _get_no_batch_dim(self) -> int:
        return self._no_batch_dim

    def _expected(self) -> str:
        return spatial_expected(self._no_batch_dim - 1, self.num_features)

    def _check_input_dim(self, input: Tensor) -> None:
        check_spatial_input(self, input, self._no_batch_dim - 1, self.num_features,
                            value_shape_error)

    def _handle_no_batch_input(self, input: Tensor) -> Tensor:
        return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)

    def _apply_instance_norm(self, input: Tensor) -> Tensor:
        return _N.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias, self.training or not self.track_running_stats,
                                self.momentum if self.momentum is not None else 0.0, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        # checkpoints from before 0.4.0 carry running stats that such a layer no longer keeps
        if version is None and not self.track_running_stats:
            keys = [prefix + n for n in ("running_mean", "running_var") if prefix + n in state_dict]
            if keys:
                klass = self.__class__.__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {names} for {klass} with "
                    "track_running_stats=False. If state_dict is a checkpoint saved before "
                    "0.4.0, this may be expected because {klass} does not track running stats "
                    "by default since 0.4.0. Please remove these keys from state_dict. If the "
                    "running stats are actually needed, instead set track_running_stats=True "
                    "in {klass} to enable them. See the documentation of {klass} for "
                    "details.".format(names=" and ".join(f'"{k}"' for k in keys), klass=klass))
                for k in keys:
                    state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise value_shape_error(self, tuple(input.shape), self._expected())
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=2)
        if input.dim() == self._no_batch_dim:
            return self._handle_no_batch_input(input)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over ``(N, C, L)`` or ``(C, L)``: each (sample, channel) row is
    normalized with its own mean and variance.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: running-statistics update factor (default 0.1).
        affine: learn per-channel ``weight``/``bias`` (default False).
        track_running_stats: keep running statistics and use them in eval (default False).

    Example:
        >>> import lamina as torch
        >>> torch.nn.InstanceNorm1d(3)(torch.randn(2, 3, 5)).shape
        lamina.Size([2, 3, 5])
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over ``(N, C, H, W)`` or ``(C, H, W)``; arguments as ``InstanceNorm1d``.

    Example:
        >>> import lamina as torch
        >>> torch.nn.InstanceNorm2d(3, affine=True)
        InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=False)
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; arguments as
    ``InstanceNorm1d``."""

    _no_batch_dim = 4
