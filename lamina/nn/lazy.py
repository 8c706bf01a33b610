"""LazyModuleMixin: layers whose input size is inferred at the first call (torch.nn.modules.lazy).

A lazy layer (``LazyLinear(256)``) holds :class:`UninitializedParameter` s until it sees its
first input. Then, in one visible step, it infers the missing size (``in_features`` from the
input's last dimension), gives every pending tensor its shape in place (the same objects: an
optimizer built earlier keeps working), runs its default ``reset_parameters``, replays the
``nn.init`` calls recorded on its pending tensors in the order they were made, and becomes the
plain layer (``type(m) is nn.Linear``). No hooks: ``__call__`` does the step, and after it the
plain class's ``Module.__call__`` runs, so a materialized layer costs nothing extra.

The same step runs without any forward pass when a checkpoint is loaded
(``load_state_dict`` infers the sizes from the checkpoint's shapes, after validating the whole
model) and for a whole model at once with ``lamina.nn.utils.materialize``.

The first call fixes the shape: a later input of another size gets the plain layer's shape
error. A model that must take inputs of several sizes needs layers that do not depend on them
(or one model per size sharing parameters).

A custom lazy module follows torch's protocol: subclass ``LazyModuleMixin`` first, create
``UninitializedParameter`` s, implement ``initialize_parameters(*inputs)`` (materialize them
and reset) and optionally set ``cls_to_become``. Built-in lazy layers also implement the
private ``_lazy_infer_input`` / ``_lazy_infer_state`` / ``_lazy_build`` trio, which lets
``load_state_dict`` finish them from a checkpoint alone.
"""

from __future__ import annotations

import itertools
from typing import Any

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .module import DRY_RUN_KEY, TXN_KEY, Module, save_own_state
from .parameter import (UninitializedBuffer, UninitializedTensorMixin, _info, _replay,
                        _set_info, _slot_get, _slot_set)

__all__ = ["LazyModuleMixin"]


def _detach_unless_pending(t):
    return t if isinstance(t, UninitializedTensorMixin) else t.detach()


def _pending_items(module):
    """``(name, tensor)`` for each pending parameter and buffer of ``module`` itself."""
    for name, t in itertools.chain(module._parameters.items(), module._buffers.items()):
        if isinstance(t, UninitializedTensorMixin):
            yield name, t


def _lazy_snapshot(module):
    """An undo step that makes ``module`` pending again (load_state_dict's rollback): its
    class, attributes and pending tensors (class, placeholder, device, init records)."""
    cls = module.__class__
    attrs = dict(module.__dict__)
    params = dict(module._parameters)
    buffers = dict(module._buffers)
    tensors = [(t, type(t), _slot_get(t), t._device, _info(t)) for _, t in
               _pending_items(module)]

    def undo():
        for t, tcls, ph, dev, info in tensors:
            t.__class__ = tcls
            _slot_set(t, ph)
            t._device = dev
            if info is not None:
                _set_info(t, info)
        module.__class__ = cls
        module._parameters.clear()
        module._parameters.update(params)
        module._buffers.clear()
        module._buffers.update(buffers)
        d = module.__dict__
        d.clear()
        d.update(attrs)
    return undo


class LazyModuleMixin:
    """Mixin for modules whose parameters' shapes are inferred from their first input.

    Attributes:
        cls_to_become: the class the module becomes once every parameter is materialized
            (e.g. ``Linear`` for ``LazyLinear``); None keeps the class.
    """

    cls_to_become: type | None = None

    # ------------------------------------------------------------------ torch's API
    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer of this module (not its children) is pending."""
        for t in itertools.chain(self._parameters.values(), self._buffers.values()):
            if isinstance(t, UninitializedTensorMixin):
                return True
        return False

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Materialize the pending tensors from the first call's inputs and reset them.

        Built-in lazy layers implement it; a custom lazy module must."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def _infer_parameters(self, module, args, kwargs=None) -> None:
        """torch's forward pre-hook, kept as a method: the whole materialization step."""
        module._lazy_materialize(tuple(args), kwargs or {})

    # ------------------------------------------------------------------ the call
    def __call__(self, *args, **kwargs):
        self._lazy_materialize(args, kwargs)
        # the plain class's call from here on (hooks, path-naming errors, ...)
        return Module.__call__(self, *args, **kwargs)

    def forward(self, *args, **kwargs):
        # reached when forward is called directly on a built-in lazy layer (not through
        # __call__): materialize, then the plain layer's forward
        self._lazy_materialize(args, kwargs)
        if isinstance(self, LazyModuleMixin):
            return super().forward(*args, **kwargs)
        return self.forward(*args, **kwargs)

    def _lazy_materialize(self, args, kwargs) -> None:
        if self.has_uninitialized_params():
            self._lazy_run(lambda: self.initialize_parameters(*args, **kwargs))
        elif self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _lazy_run(self, build) -> None:
        """The one materialization step: ``build()`` shapes and resets the pending tensors;
        then the recorded init calls are replayed and the class becomes the plain one."""
        records = []
        for _, t in _pending_items(self):
            info = _info(t)
            if info is not None and info.inits:
                records.extend((rec, t) for rec in info.inits)
        with no_grad():
            build()
        if self.has_uninitialized_params():
            pending = ", ".join(f"'{n}'" for n, _ in _pending_items(self))
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized: "
                               f"{pending} still pending after initialize_parameters")
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
        if records:
            _replay(records)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, UninitializedBuffer):
            d = self.__dict__
            if name not in d["_buffers"] and name not in d["_parameters"] \
                    and name not in d["_modules"]:
                # a new name: register it (torch would keep a plain attribute)
                d.pop(name, None)
                info = _info(value)
                self.register_buffer(name, value, info is None or info.persistent)
                return
        Module.__setattr__(self, name, value)
        if isinstance(value, UninitializedTensorMixin):
            value._claim(self, name)

    def register_parameter(self, name: str, param) -> None:
        Module.register_parameter(self, name, param)
        if isinstance(param, UninitializedTensorMixin):
            param._claim(self, name)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        Module.register_buffer(self, name, tensor, persistent)
        if isinstance(tensor, UninitializedTensorMixin):
            tensor._claim(self, name)

    # ------------------------------------------------------------------ messages
    def _lazy_short_repr(self) -> str:
        """The owner's name in a pending tensor's error, e.g. ``LazyLinear(out_features=256)``."""
        return f"{type(self).__name__}()"

    def _lazy_waits_for(self) -> str:
        return "the input of the module's first call"

    # ------------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        # torch's rule: a pending tensor goes into the state_dict as itself (it has no data)
        save_own_state(self, destination, prefix, keep_vars, _detach_unless_pending)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Finish a pending module from the checkpoint's shapes, then load as usual.

        In ``load_state_dict``'s validation pass (``local_metadata['lamina_validate_only']``)
        only the shapes are checked against the module's configuration; in the copy pass the
        module is materialized, reset, and becomes the plain class before the values are
        copied in."""
        if self.has_uninitialized_params():
            dry = local_metadata.get(DRY_RUN_KEY, False)
            npb = self._non_persistent_buffers_set
            shapes = {}
            for name, t in _pending_items(self):
                v = state_dict.get(prefix + name)
                if name in self._buffers and name in npb:
                    continue
                if isinstance(v, Tensor) and not isinstance(v, UninitializedTensorMixin):
                    shapes[name] = tuple(v.shape)
            if shapes and not dry:
                txn = local_metadata.get(TXN_KEY)
                if txn is not None:
                    txn.undo.append(_lazy_snapshot(self))
            if shapes:
                if hasattr(type(self), "_lazy_infer_state"):
                    attrs, problems = self._lazy_infer_state(shapes, prefix)
                    if problems:
                        error_msgs.extend(problems)
                    elif not dry:
                        self._lazy_run(lambda: self._lazy_build(attrs))
                elif not dry:
                    # a custom lazy module: give each pending tensor the checkpoint's shape
                    # (torch's _lazy_load_hook); its first call completes it
                    with no_grad():
                        for name, t in list(_pending_items(self)):
                            if name in shapes:
                                t.materialize(shapes[name])
        if not isinstance(self, LazyModuleMixin):  # became the plain class just now
            return type(self)._load_from_state_dict(self, state_dict, prefix, local_metadata,
                                                    strict, missing_keys, unexpected_keys,
                                                    error_msgs)
        return super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                             missing_keys, unexpected_keys, error_msgs)

