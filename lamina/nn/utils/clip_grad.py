"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

The math runs on the gradients' raw arrays with their device's namespace, records no graph,
and scales / clamps each ``.grad`` in place (bumping its version), as torch.nn.utils does.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

from ..._device import backend
from ..._tensor import Tensor, _make

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(xp, a, p: float):
    """``linalg.vector_norm(a, p)`` of a raw array, as a 0-d array of a's dtype."""
    a = a.reshape(-1)
    if p == 2.0:
        return xp.sqrt(xp.dot(a, a))
    absa = xp.abs(a)
    if p == math.inf:
        return absa.max() if a.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return absa.min() if a.size else xp.zeros((), a.dtype)
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    if p == 1.0:
        return absa.sum()
    return (absa ** p).sum() ** (1.0 / p)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of the norms of ``tensors`` (as if they were concatenated).

    Args:
        tensors: a Tensor or an iterable of Tensors (e.g. the gradients).
        norm_type: the order of the norm; ``'inf'`` / ``math.inf`` for the max norm.
        error_if_nonfinite: raise when the norm is nan or inf.
        foreach: accepted for compatibility.

    Returns:
        A 0-d Tensor on the first tensor's device (``tensor(0.)`` when there are none).

    Raises:
        RuntimeError: the norm is not finite and ``error_if_nonfinite`` is True.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ..._creation import tensor

        return tensor(0.0)
    first = tensors[0]._device
    fxp = backend(first).xp
    norms = []
    for t in tensors:
        xp = backend(t._device).xp
        n = _vector_norm(xp, t._data, norm_type)
        if t._device is not first:
            n = backend(first).from_numpy(backend(t._device).to_numpy(n))
        norms.append(n)
    dtype = fxp.result_type(*norms) if len(norms) > 1 else norms[0].dtype
    total = _vector_norm(fxp, fxp.stack([fxp.asarray(n, dtype=dtype) for n in norms]),
                         norm_type)
    total = fxp.asarray(total, dtype=dtype)
    if error_if_nonfinite and not bool(fxp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return _make(total, first)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale every ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    txp = backend(total_norm._device).xp
    total = total_norm._data
    coef = txp.minimum(max_norm / (total + 1e-6), 1.0)
    coef = txp.asarray(coef, dtype=total.dtype)
    for g in grads:
        c = coef
        if g._device is not total_norm._device:
            c = backend(g._device).from_numpy(backend(total_norm._device).to_numpy(coef))
        g._data *= c
        g._version_counter[0] += 1


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Clip the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    The norm is computed over all gradients together, as if concatenated into one vector;
    the gradients are modified in place.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed norm.
        norm_type: order of the norm (``'inf'`` for the max norm). Default 2.
        error_if_nonfinite: raise if the total norm is nan or inf.
        foreach: accepted for compatibility.

    Returns:
        The total norm of the gradients before clipping (a 0-d Tensor).

    Example:
        >>> import lamina
        >>> w = lamina.nn.Parameter(lamina.zeros(2))
        >>> w.grad = lamina.tensor([3.0, 4.0])
        >>> lamina.nn.utils.clip_grad_norm_([w], max_norm=1.0)
        tensor(5.)
        >>> w.grad
        tensor([0.6000, 0.8000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_` (warns like torch)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every ``.grad`` of ``parameters`` into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is not None:
            backend(g._device).xp.clip(g._data, -clip_value, clip_value, out=g._data)
            g._version_counter[0] += 1
