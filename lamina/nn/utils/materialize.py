"""``materialize``: finish every lazy module of a model in one explicit call (lamina only)."""

from __future__ import annotations

from collections.abc import Sequence

from ... import _dtype as _D
from ..._device import to_device
from ...autograd.grad_mode import no_grad
from ..lazy import LazyModuleMixin
from ..module import Module
from ..parameter import UninitializedTensorMixin, _slot_get

__all__ = ["materialize"]


def is_shape(x) -> bool:
    """A shape: a tuple or list (or Size) of ints."""
    return isinstance(x, (tuple, list)) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in x)


def _example_device(model: Module):
    """The device the model's tensors (pending or not) live on: where the zeros go."""
    for t in model.parameters():
        return t._device
    for t in model.buffers():
        return t._device
    return to_device(None)


def _example_dtype(model: Module):
    for t in model.parameters():
        if isinstance(t, UninitializedTensorMixin):
            arr = _slot_get(t)
            if arr.dtype.kind == "f":
                return _D._FROM_NP[arr.dtype]
        elif t.is_floating_point():
            return t.dtype
    return _D.get_default_dtype()


def materialize(model: Module, *example_inputs, input_shape=None, dtype=None,
                device=None) -> Module:
    """Materialize every lazy module of ``model`` now, with one dry forward pass.

    The dry pass runs ``model(*example_inputs)`` under ``no_grad`` with every module in eval
    mode, so that Dropout draws nothing and BatchNorm's running statistics (and
    ``num_batches_tracked``) are not changed; each module's train/eval mode is restored
    afterwards. Forward hooks do run. The first call fixes the shapes, exactly as a real first
    forward would; then the lazy layers are their plain classes (``nn.Linear``...).

    Args:
        model: the model (any ``Module``); returned, for chaining.
        *example_inputs: the inputs of one forward call (any batch size), e.g. a real batch.
        input_shape: instead of inputs, their shapes: one shape such as ``(2, 20)`` for a model
            of one input, or a list of shapes ``[(2, 20), (2, 5)]`` for several; the dry pass
            runs on zeros of those shapes.
        dtype: dtype of the zeros (default: the model's floating dtype, else the default).
        device: device of the zeros (default: the device of the model's parameters).

    Returns:
        ``model``.

    Raises:
        TypeError: both or neither of ``example_inputs`` and ``input_shape`` given, or a shape
            that is not a tuple of ints.
        RuntimeError: a lazy module was not reached by the forward pass (it stays pending; its
            path is named).

    Example:
        >>> import lamina as torch
        >>> from lamina import nn
        >>> net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
        >>> _ = nn.utils.materialize(net, input_shape=(1, 20))
        >>> net[0]
        Linear(in_features=20, out_features=256, bias=True)
        >>> sum(p.numel() for p in net.parameters())
        7946
    """
    if not isinstance(model, Module):
        raise TypeError(f"materialize: model must be an nn.Module; expected Module, got "
                        f"{type(model).__name__}")
    if example_inputs and input_shape is not None:
        raise TypeError("materialize: pass example inputs or input_shape, not both")
    if not example_inputs and input_shape is None:
        raise TypeError("materialize: expected example inputs (materialize(model, x)) or "
                        "input_shape (materialize(model, input_shape=(2, 20))), got neither")
    if input_shape is not None:
        if isinstance(input_shape, int) or is_shape(input_shape):
            shapes = [input_shape]
        elif isinstance(input_shape, Sequence) and input_shape and \
                all(isinstance(s, int) or is_shape(s) for s in input_shape):
            shapes = list(input_shape)
        else:
            raise TypeError(f"materialize: input_shape must be a shape (a tuple of ints) or a "
                            f"list of shapes; got {input_shape!r}")
        from ..._creation import zeros

        dev = _example_device(model) if device is None else to_device(device)
        dt = _example_dtype(model) if dtype is None else _D.to_dtype(dtype)
        example_inputs = tuple(
            zeros((s,) if isinstance(s, int) else tuple(s), dtype=dt, device=dev)
            for s in shapes)
    lazy = [(name, m) for name, m in model.named_modules() if isinstance(m, LazyModuleMixin)]
    if not lazy:
        return model
    dry_forward(model, example_inputs)
    pending = [(name, m) for name, m in lazy
               if isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()]
    if pending:
        names = ", ".join(f"'{name or '(root)'}' ({type(m).__name__})" for name, m in pending)
        raise RuntimeError(f"materialize: the forward pass did not reach {names}; they are "
                           "still not materialized: call materialize with inputs that take "
                           "every branch, or run them once yourself")
    return model


def dry_forward(model: Module, inputs):
    """The one dry run (``materialize`` and ``utils.summary``): ``model(*inputs)`` under
    ``no_grad`` with every module in eval mode (Dropout draws nothing, BatchNorm's running
    statistics stay), each module's train/eval mode restored afterwards, even on error.
    Returns the output."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            return model(*inputs)
    finally:
        for m, mode in modes:
            m.__dict__["training"] = mode
