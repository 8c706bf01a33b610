"""``torch.*`` twins of ``nn.functional`` ops.

torch exposes many functional ops at the top level too (``torch.conv2d``, ``torch.dropout``,
``torch.layer_norm``). Where the signatures agree they are plain re-exports of the F
definition; where torch's top-level twin is the ATen op with its own argument list
(``torch.dropout(input, p, train)``, ``torch.batch_norm(input, weight, bias, running_mean, ...)``)
it is a one-line call of the F definition with torch's parameter names and order. Flags that
only select a backend kernel (``cudnn_enabled``) are accepted and do not change the result.
"""

from __future__ import annotations

from .ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d,  # noqa: F401
                       conv_transpose2d, conv_transpose3d)
from .ops.loss import cosine_similarity, pairwise_distance  # noqa: F401
from .ops.norm import rms_norm  # noqa: F401
from .ops.pool import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d,  # noqa: F401
                       max_pool1d, max_pool1d_with_indices, max_pool2d, max_pool3d)
from .ops.sampling import pixel_shuffle, pixel_unshuffle  # noqa: F401

from . import _FUNCTIONAL_TWINS

__all__ = sorted(_FUNCTIONAL_TWINS)  # the one list, in lamina/__init__.py


def _F():
    from .nn import functional

    return functional


def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


def dropout(input, p, train):
    return _F().dropout(input, p, train)


def alpha_dropout(input, p, train):
    return _F().alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _F().feature_alpha_dropout(input, p, train)


def dropout_(input, p, train):
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    return _F().alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p, train):
    return _F().feature_alpha_dropout(input, p, train, inplace=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
