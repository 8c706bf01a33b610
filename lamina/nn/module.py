"""Module: the base class of every layer and model (torch.nn.Module's behaviour, same names).

Parameters, buffers and submodules are registered through ``__setattr__`` into ``_parameters``,
``_buffers`` and ``_modules``, exactly as in torch. One difference keeps ``self.weight`` fast:
each of those three dicts mirrors its entries into the instance ``__dict__``, so reading a
registered attribute is a plain attribute hit instead of torch's ``__getattr__`` fallback (which
costs about 50 plain lookups in CPython). The dicts are ``_Registry`` objects that keep the
mirror in sync on every write, so code that edits ``module._parameters[...]`` directly (lazy
modules, parametrizations) stays correct.
"""

from __future__ import annotations

import difflib
import itertools
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .._tensor import Tensor, _make, _parse_to
from ..autograd.grad_mode import STATE, no_grad
from ..ops._op import Op
from ._errors import ModuleInputError
from .parameter import Buffer, Parameter, is_lazy

__all__ = ["Module", "RemovableHandle", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook", "register_module_buffer_registration_hook",
           "register_module_parameter_registration_hook",
           "register_module_module_registration_hook"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"
# local_metadata key set during load_state_dict's validation pass: an overriding
# _load_from_state_dict or a load pre-hook must not change the module while it is set
DRY_RUN_KEY = "lamina_validate_only"
# local_metadata key set during load_state_dict's write pass: the _LoadTxn that collects the
# copies (written only once every one of them is prepared) and the undo steps
TXN_KEY = "lamina_load_txn"


# ---------------------------------------------------------------------------- hook handles
class RemovableHandle:
    """Handle returned by every ``register_*_hook``; ``remove()`` unregisters (torch.utils.hooks).

    Usable as a context manager: the hook is removed on exit.
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            extra = ref()
            if extra is not None and self.id in extra:
                del extra[self.id]

    def __getstate__(self):
        if self.extra_dict_ref:
            return (self.hooks_dict_ref(), self.id,
                    tuple(ref() for ref in self.extra_dict_ref))
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state) -> None:
        if state[0] is None:
            self.hooks_dict_ref = weakref.ref(OrderedDict())
        else:
            self.hooks_dict_ref = weakref.ref(state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = () if len(state) < 3 else tuple(
            weakref.ref(d) for d in state[2] if d is not None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *args) -> None:
        self.remove()


class _WrappedHook:
    """A hook that also receives the module (held weakly, as torch does)."""

    def __init__(self, hook, module=None):
        self.hook = hook
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args):
        if self.with_module:
            m = self.module()
            if m is None:
                raise RuntimeError("You are trying to call the hook of a dead Module!")
            return self.hook(m, *args)
        return self.hook(*args)

    def __getstate__(self):
        state = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook = state["hook"]
        self.with_module = state["with_module"]
        if self.with_module:
            if state["module"] is None:
                raise RuntimeError("You are trying to revive the hook of a dead Module!")
            self.module = weakref.ref(state["module"])


# global hooks (torch.nn.modules.module.register_module_*): every module's call sees them
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
# one flag read by Module.__call__ instead of four dict truth tests
_GLOBAL_CALL_HOOKS = [False]


def _refresh_global_flag() -> None:
    _GLOBAL_CALL_HOOKS[0] = bool(_global_forward_pre_hooks or _global_forward_hooks
                                 or _global_backward_pre_hooks or _global_backward_hooks)


class _GlobalHandle(RemovableHandle):
    def remove(self) -> None:
        super().remove()
        _refresh_global_flag()


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(module, args)`` run before every module's forward."""
    handle = _GlobalHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    _refresh_global_flag()
    return handle


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Register ``hook(module, args, output)`` run after every module's forward."""
    handle = _GlobalHandle(_global_forward_hooks, extra_dict=[
        _global_forward_hooks_always_called, _global_forward_hooks_with_kwargs])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    _refresh_global_flag()
    return handle


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(module, grad_output)`` for every module's backward."""
    handle = _GlobalHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    _refresh_global_flag()
    return handle


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """Register ``hook(module, grad_input, grad_output)`` for every module's backward."""
    handle = _GlobalHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    _refresh_global_flag()
    return handle


def register_module_buffer_registration_hook(hook) -> RemovableHandle:
    """Register ``hook(module, name, buffer)`` run by every ``register_buffer``."""
    handle = RemovableHandle(_global_buffer_registration_hooks)
    _global_buffer_registration_hooks[handle.id] = hook
    return handle


def register_module_module_registration_hook(hook) -> RemovableHandle:
    """Register ``hook(module, name, submodule)`` run by every submodule registration."""
    handle = RemovableHandle(_global_module_registration_hooks)
    _global_module_registration_hooks[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook) -> RemovableHandle:
    """Register ``hook(module, name, param)`` run by every ``register_parameter``."""
    handle = RemovableHandle(_global_parameter_registration_hooks)
    _global_parameter_registration_hooks[handle.id] = hook
    return handle


# ---------------------------------------------------------------------------- helpers
class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, " \
               f"unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__


def _addindent(s_: str, num_spaces: int) -> str:
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    s = [(num_spaces * " ") + line for line in s]
    return first + "\n" + "\n".join(s)


def _typename(obj) -> str:
    """torch.typename: 'torch.FloatTensor' for tensors, the qualified name otherwise."""
    if isinstance(obj, Tensor):
        from .._tensor import _type_str

        return _type_str(obj._data, obj._device)
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def check_state_dict_metadata(meta, where: str, error=RuntimeError) -> None:
    """A state_dict's ``_metadata``: a dict of module path -> dict of str keys, whose
    ``version`` (when present) is an int or None; anything else raises ``error``."""
    if not isinstance(meta, dict):
        raise error(f"{where}: the state_dict's _metadata must be a dict of module path -> "
                    f"dict; got {type(meta).__name__}")
    for path, local in meta.items():
        if type(path) is not str or not isinstance(local, dict) or not all(
                type(k) is str for k in local):
            raise error(f"{where}: the state_dict's _metadata maps {path!r} to "
                        f"{type(local).__name__}; expected a module path (str) mapped to a "
                        f"dict with str keys")
        version = local.get("version")
        if version is not None and type(version) is not int:
            raise error(f"{where}: the state_dict's _metadata gives module {path!r} the "
                        f"version {version!r}; expected an int")


def zero_grads(params, set_to_none: bool = True) -> None:
    """Reset ``.grad`` of each tensor: to None, or detached and zeroed in place (a version
    bump, as an in-place op). The one implementation behind ``Module.zero_grad`` and
    ``Optimizer.zero_grad``."""
    for p in params:
        g = p.grad
        if g is None:
            continue
        if set_to_none:
            _object_setattr(p, "grad", None)
            continue
        if g.grad_fn is not None:
            g.detach_()
        else:
            _object_setattr(g, "requires_grad", False)
        g._data.fill(0)
        g._version_counter[0] += 1


def _size_str(shape) -> str:
    return f"torch.Size({list(shape)})"


def _explain_forward_error(module, err: RuntimeError, args) -> None:
    """What ``Module.__call__`` adds to an error its ``forward`` raised, on the way up: a
    layer's input error gets the module's path; a device mismatch caused by a plain tensor
    attribute becomes an error naming it (see :func:`_check_stale_tensors`)."""
    if isinstance(err, ModuleInputError):
        err.set_root(module)
    else:
        _check_stale_tensors(module, err, args)


def _check_stale_tensors(module, err: RuntimeError, args) -> None:
    """Explain a device error of ``module``'s forward caused by a plain tensor attribute.

    A tensor kept as a plain attribute (not a parameter or buffer) does not move with
    ``.to()`` / ``.cuda()`` / ``.cpu()``; torch then fails deep inside some op. This runs only
    after forward raised (the call's hot path pays nothing) and, when the error is a device
    mismatch that involves such an attribute, raises a ``ModuleInputError`` naming it.
    """
    if type(err) is not RuntimeError or "same device" not in str(err):
        return
    home = None
    for t in itertools.chain(module._parameters.values(), module._buffers.values(), args):
        if isinstance(t, Tensor):
            home = t._device
            break
    if home is None:
        return
    registered = module._parameters.keys() | module._buffers.keys() | module._modules.keys()
    msg = str(err)
    stale = []
    for name, value in module.__dict__.items():
        if name in registered:
            continue
        items = [(name, value)]
        if type(value) in (list, tuple):
            items = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        for label, v in items:
            if isinstance(v, Tensor) and v._device != home and str(v._device) in msg:
                stale.append((label, v._device))
    if not stale:
        return
    attr = stale[0][0].split("[", 1)[0]
    names = ", ".join(f"'{n}' (on {d})" for n, d in stale)
    raise ModuleInputError(
        module, f"holds the plain tensor attribute{'s' if len(stale) > 1 else ''} {names} but "
        f"computes on {home}; a tensor kept as a plain attribute (not a parameter or buffer) "
        f"does not move with .to()/.cuda()/.cpu(); expected it on {home}: register it with "
        f"self.register_buffer('{attr}', tensor) (persistent=False keeps it out of the "
        f"state_dict) so it moves with the module. Original error: {msg}") from err


def _forward_unimplemented(self, *input: Any) -> None:
    """Define the computation performed at every call; every subclass overrides it."""
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function')


class _Registry(dict):
    """``_parameters`` / ``_buffers`` / ``_modules``: a dict that mirrors its entries into the
    owner's ``__dict__`` (so ``module.weight`` is a plain attribute hit).

    The owner is held by a weak reference: a strong one would make every module a reference
    cycle (module -> __dict__ -> registry -> module) that only the cyclic GC can free, which
    costs more than building the module (and keeps its arrays alive until a collection).
    """

    __slots__ = ("_ref",)

    def __init__(self, owner):
        dict.__init__(self)
        self._ref = weakref.ref(owner)

    @property
    def _owner(self):
        return self._ref()

    def _mirror(self):
        owner = self._ref()
        return owner.__dict__ if owner is not None else {}

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        self._mirror()[key] = value

    def __delitem__(self, key):
        value = dict.pop(self, key)
        d = self._mirror()
        if key in d and d[key] is value:
            del d[key]

    def _unmirror(self, key, value):
        d = self._mirror()
        if key in d and d[key] is value:
            del d[key]

    def pop(self, key, *default):
        if key in self:
            value = dict.pop(self, key)
            self._unmirror(key, value)
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        key, value = dict.popitem(self)
        self._unmirror(key, value)
        return key, value

    def clear(self):
        for key, value in list(self.items()):
            self._unmirror(key, value)
        dict.clear(self)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def copy(self):
        return dict(self)

    def __reduce__(self):
        # the owner's pickled __dict__ already holds the mirror entries
        return (_rebuild_registry, (self._owner, dict(self)))


def _rebuild_registry(owner, items):
    r = _Registry.__new__(_Registry)
    dict.update(r, items)
    r._ref = weakref.ref(owner)
    return r


_object_setattr = object.__setattr__
_REGISTRY_NAMES = ("_parameters", "_buffers", "_modules")


# ---------------------------------------------------------------------------- Module
class Module:
    """Base class for all neural network modules (``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, assign their layers and parameters as
    attributes (which registers them) and define ``forward``. Calling the module runs the
    forward pre-hooks, ``forward`` and the forward hooks.

    Example:
        >>> import lamina as torch
        >>> from lamina import nn
        >>> class Scale(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.s = nn.Parameter(torch.ones(1))
        ...     def forward(self, x):
        ...         return x * self.s
        >>> [n for n, _ in Scale().named_parameters()]
        ['s']
    """

    dump_patches: bool = False
    _version: int = 1
    training: bool
    call_super_init: bool = False
    _compiled_call_impl = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.call_super_init is False and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if self.call_super_init is False and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = _Registry(self)
        d["_buffers"] = _Registry(self)
        d["_non_persistent_buffers_set"] = set()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_is_full_backward_hook"] = None
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = OrderedDict()
        d["_forward_hooks_always_called"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()
        d["_modules"] = _Registry(self)
        # True once a forward/backward hook was registered; the hooked call path resets it
        # when every hook dict is empty again (so __call__ tests one attribute, not four)
        d["_has_call_hooks"] = False
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward: Callable[..., Any] = _forward_unimplemented

    # ------------------------------------------------------------------ call
    def __call__(self, *args, **kwargs):
        # the hot path: no hooks -> forward and nothing else (try costs nothing in 3.11+)
        if self._has_call_hooks or _GLOBAL_CALL_HOOKS[0]:
            return self._call_with_hooks(args, kwargs)
        try:
            return self.forward(*args, **kwargs)
        except RuntimeError as e:  # costs nothing unless forward raised
            _explain_forward_error(self, e, args)
            raise

    _call_impl = __call__
    _wrapped_call_impl = __call__

    def _call_with_hooks(self, args, kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            self.__dict__["_has_call_hooks"] = False  # every hook was removed
            if not _GLOBAL_CALL_HOOKS[0]:
                return Module.__call__(self, *args, **kwargs)
        result = None
        called_always = set()
        try:
            bw_pre = []
            full_bw = []
            if self._backward_pre_hooks or _global_backward_pre_hooks:
                bw_pre = [*_global_backward_pre_hooks.values(),
                          *self._backward_pre_hooks.values()]
            if self._backward_hooks or _global_backward_hooks:
                full_bw = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
            if _global_forward_pre_hooks or self._forward_pre_hooks:
                for hook_id, hook in (*_global_forward_pre_hooks.items(),
                                      *self._forward_pre_hooks.items()):
                    if hook_id in self._forward_pre_hooks_with_kwargs:
                        r = hook(self, args, kwargs)
                        if r is not None:
                            if isinstance(r, tuple) and len(r) == 2:
                                args, kwargs = r
                            else:
                                raise RuntimeError(
                                    "forward pre-hook must return None or a tuple of "
                                    f"(new_args, new_kwargs), but got {r}.")
                    else:
                        r = hook(self, args)
                        if r is not None:
                            args = r if isinstance(r, tuple) else (r,)
            bw_hook = None
            if full_bw or bw_pre:
                bw_hook = _BackwardHook(self, full_bw, bw_pre)
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            if _global_forward_hooks or self._forward_hooks:
                for hook_id, hook in (*_global_forward_hooks.items(),
                                      *self._forward_hooks.items()):
                    if (hook_id in self._forward_hooks_always_called
                            or hook_id in _global_forward_hooks_always_called):
                        called_always.add(hook_id)
                    if (hook_id in self._forward_hooks_with_kwargs
                            or hook_id in _global_forward_hooks_with_kwargs):
                        r = hook(self, args, kwargs, result)
                    else:
                        r = hook(self, args, result)
                    if r is not None:
                        result = r
            if bw_hook is not None:
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception as exc:
            import warnings

            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if ((hook_id in self._forward_hooks_always_called
                     or hook_id in _global_forward_hooks_always_called)
                        and hook_id not in called_always):
                    try:
                        if (hook_id in self._forward_hooks_with_kwargs
                                or hook_id in _global_forward_hooks_with_kwargs):
                            r = hook(self, args, kwargs, result)
                        else:
                            r = hook(self, args, result)
                        if r is not None:
                            result = r
                    except Exception as e:
                        warnings.warn("module forward hook with ``always_call=True`` raised an "
                                      "exception that was silenced as another error was raised "
                                      f"in forward: {e}", stacklevel=2)
            if isinstance(exc, RuntimeError):
                _explain_forward_error(self, exc, args)
            raise

    # ------------------------------------------------------------------ registration
    def _check_new_name(self, kind: str, registry: str, name) -> None:
        """torch's checks (and messages) before a buffer or parameter is registered."""
        d = self.__dict__
        if registry not in d:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in d[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: module state that is not a parameter (e.g. BatchNorm's running mean).

        Args:
            name: attribute name of the buffer.
            tensor: the buffer, or None (then it is skipped by ``to()`` and ``state_dict``).
            persistent: whether the buffer is part of ``state_dict()``.
        """
        self._check_new_name("buffer", "_buffers", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        for hook in _global_buffer_registration_hooks.values():
            out = hook(self, name, tensor)
            if out is not None:
                tensor = out
        self._buffers[name] = tensor
        self.__dict__[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None) under ``name``; it becomes an attribute."""
        self._check_new_name("parameter", "_parameters", name)
        if param is None:
            self._parameters[name] = None
            self.__dict__[name] = None  # the mirror, also when _parameters is shared (copy.copy)
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        for hook in _global_parameter_registration_hooks.values():
            out = hook(self, name, param)
            if out is not None:
                param = out
        self._parameters[name] = param
        self.__dict__[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``; it becomes an attribute."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        for hook in _global_module_registration_hooks.values():
            out = hook(self, name, module)
            if out is not None:
                module = out
        self._modules[name] = module
        self.__dict__[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias for :meth:`add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ('' is self)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Set the submodule at the dotted path ``target`` (its parent must exist)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError("`" + "module" + f"` is not an nn.Module, found {type(module)}")
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(parent._get_name() + " has no attribute `" + atoms[-1] + "`")
        if hasattr(parent, atoms[-1]):
            mod = getattr(parent, atoms[-1])
            if not isinstance(mod, Module):
                raise AttributeError("`" + atoms[-1] + "` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. ``'net.0.weight'``)."""
        module_path, _, param_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target``."""
        module_path, _, buffer_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, buffer_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(mod, buffer_name)
        if buffer_name not in mod._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    def get_extra_state(self) -> Any:
        """Override (with :meth:`set_extra_state`) to store extra state in ``state_dict``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state: Any) -> None:
        """Override (with :meth:`get_extra_state`) to restore extra state from a state_dict."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    # ------------------------------------------------------------------ attributes
    def __getattr__(self, name: str):
        # reached only when the mirror misses (e.g. a subclass wrote __dict__ by hand)
        d = self.__dict__
        if "_parameters" in d:
            p = d["_parameters"]
            if name in p:
                return p[name]
        if "_buffers" in d:
            b = d["_buffers"]
            if name in b:
                return b[name]
        if "_modules" in d:
            m = d["_modules"]
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                _remove_from(name, d, self._parameters, self._buffers,
                             self._non_persistent_buffers_set)
                for hook in _global_module_registration_hooks.values():
                    out = hook(self, name, value)
                    if out is not None:
                        value = out
                modules[name] = value
                d[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                    f"'{name}' (torch.nn.Module or None expected)")
                for hook in _global_module_registration_hooks.values():
                    out = hook(self, name, value)
                    if out is not None:
                        value = out
                modules[name] = value
                d[name] = value
            else:
                buffers = d.get("_buffers")
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(torch.nn.Buffer, torch.Tensor or None expected)")
                    if isinstance(value, Buffer):
                        persistent = value.persistent
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    if buffers is None:
                        raise AttributeError("cannot assign buffer before Module.__init__() "
                                             "call")
                    self.register_buffer(name, value, persistent)
                elif name in _REGISTRY_NAMES and isinstance(value, dict) and name in d:
                    self._replace_registry(name, value)
                else:
                    _object_setattr(self, name, value)

    def _replace_registry(self, name: str, value: dict) -> None:
        # e.g. ``self._modules = OrderedDict(...)`` (torch's own containers used to do this):
        # keep the attribute mirror in sync with the new contents
        old = self.__dict__[name]
        if isinstance(old, _Registry):
            for k, v in list(old.items()):
                old._unmirror(k, v)
        new = _Registry(self)
        for k, v in value.items():
            new[k] = v
        self.__dict__[name] = new

    def __delattr__(self, name: str) -> None:
        for reg in (self._parameters, self._buffers, self._modules):
            if name in reg:
                value = reg[name]
                del reg[name]
                if reg is self._buffers:
                    self._non_persistent_buffers_set.discard(name)
                d = self.__dict__
                if name in d and d[name] is value:  # the mirror of a shared registry
                    del d[name]
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(self.__class__))
        keys.update(self.__dict__)
        keys.update(self._parameters)
        keys.update(self._modules)
        keys.update(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled_call_impl", None)
        return state

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        d = self.__dict__
        d["_has_call_hooks"] = any(d.get(k) for k in (
            "_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks"))
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is None:
                continue
            # a _Registry owned by another module stays shared: copy.copy(module) shares
            # _parameters / _buffers / _modules with the original, as in torch
            if not isinstance(reg, _Registry):
                new = _Registry(self)
                dict.update(new, reg)
                d[key] = new
                reg = new
            for k, v in reg.items():
                d[k] = v

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Pre-order walk: ``(path, module)`` for self and every descendant, each module once
        (unless ``remove_duplicate=False``)."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        # an explicit stack of child iterators: no recursion, same order as torch's
        stack = [(prefix, iter(self._modules.items()))]
        while stack:
            pre, it = stack[-1]
            for name, module in it:
                if module is None or module in memo:
                    continue
                if remove_duplicate:
                    memo.add(module)
                path = pre + "." + name if pre else name
                yield path, module
                stack.append((path, iter(module._modules.items())))
                break
            else:
                stack.pop()

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        """Every module of the tree, self first, each once."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child, each child module once."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(path, parameter)`` pairs in registration order; a shared parameter once."""
        return _members(self, "_parameters", prefix, recurse, remove_duplicate, True)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once (a tied parameter is yielded once)."""
        return _members(self, "_parameters", "", recurse, True, False)

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(path, buffer)`` pairs (persistent or not), each buffer once."""
        return _members(self, "_buffers", prefix, recurse, remove_duplicate, True)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return _members(self, "_buffers", "", recurse, True, False)

    # ------------------------------------------------------------------ modes, grads, apply
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant (Dropout, BatchNorm...)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default) or to zeros in place."""
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first, recursively) and then on self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def share_memory(self) -> Module:
        """No-op: lamina tensors live in one process (kept for torch compatibility)."""
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def _apply(self, fn, recurse: bool = True) -> Module:
        """Apply ``fn`` (Tensor -> Tensor) to every parameter, gradient and buffer.

        Parameters are changed in place (their ``_data`` / ``_device`` are replaced), so the
        Parameter objects, ties and optimizer references survive; buffers are replaced with
        ``fn(buffer)``, as torch does.
        """
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            if applied is not param:
                _set_data(param, applied)
            g = param.grad
            if g is not None:
                with no_grad():
                    g_applied = fn(g)
                if g_applied is not g:
                    _set_data(g, g_applied)
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Move and/or cast parameters and buffers in place: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)``, ``to(tensor)``. Only floating point tensors change dtype."""
        device, dtype, _ = _parse_to(args, dict(kwargs))
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")

        def convert(t):
            return t.to(device, dtype if t.is_floating_point() else None)

        return self._apply(convert)

    def to_empty(self, *, device, recurse: bool = True) -> Module:
        """Move to ``device`` without copying the values (they are uninitialized)."""
        from .._creation import empty_like

        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def cpu(self) -> Module:
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None) -> Module:
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type) -> Module:
        """Cast every parameter and buffer (integer ones too) to ``dst_type``."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self) -> Module:
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Module:
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> Module:
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``)
        runs before forward and may return new args (or ``(args, kwargs)``)."""
        self.__dict__["_has_call_hooks"] = True
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``) runs
        after forward and may return a replacement output."""
        self.__dict__["_has_call_hooks"] = True
        handle = RemovableHandle(self._forward_hooks, extra_dict=[
            self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients of the outputs are known and
        may return replacement ``grad_output``."""
        self.__dict__["_has_call_hooks"] = True
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's tensor inputs are computed and may return a replacement ``grad_input``."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        self.__dict__["_has_call_hooks"] = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before ``state_dict`` of this module."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after ``state_dict``."""
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    _register_state_dict_hook = register_state_dict_post_hook

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False):
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _WrappedHook(
            hook, self if with_module else None)
        return handle

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module loads its entries.

        ``load_state_dict`` first runs a validation pass in which
        ``local_metadata['lamina_validate_only']`` is True: a hook must not change the module
        then (so that a failed load changes nothing)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after this module's subtree was loaded; it
        may edit ``incompatible_keys``' lists in place (the strict check sees the edits).

        It runs in ``load_state_dict``'s validation pass as well (before anything is copied),
        so it should only inspect or edit the key lists."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters and persistent buffers into ``destination``."""
        save_own_state(self, destination, prefix, keep_vars)

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of every parameter and persistent buffer by dotted path.

        Values are detached tensors sharing memory with the module (``keep_vars=True`` gives
        the Parameters themselves). A tied parameter appears under each of its paths. The
        dict's ``_metadata`` attribute maps each module path to ``{'version': ...}``.
        """
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        meta = getattr(destination, "_metadata", None)
        if meta is not None:
            meta[prefix[:-1]] = local_metadata
        if self._state_dict_pre_hooks:
            for hook in self._state_dict_pre_hooks.values():
                hook(self, prefix, keep_vars)
        _save_tree(self, destination, prefix, keep_vars, meta)
        if self._state_dict_hooks:
            for hook in self._state_dict_hooks.values():
                result = hook(self, destination, prefix, local_metadata)
                if result is not None:
                    destination = result
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Load this module's own entries of ``state_dict`` (keys starting with ``prefix``).

        Override point (as in torch). During ``load_state_dict``'s validation pass
        ``local_metadata['lamina_validate_only']`` is True: then only problems are recorded
        (in ``missing_keys`` / ``unexpected_keys`` / ``error_msgs``) and nothing is copied.
        """
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        dry = local_metadata.get(DRY_RUN_KEY, False)
        npb = self._non_persistent_buffers_set
        local_state = {k: v for k, v in itertools.chain(
            self._parameters.items(),
            ((k, v) for k, v in self._buffers.items() if k not in npb)) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                msg = (f'While copying the parameter named "{key}", expected torch.Tensor or '
                       f"Tensor-like object from checkpoint but received {type(value)}")
                if type(value).__module__.split(".")[0] == "torch":
                    msg += (" (a PyTorch tensor: load the checkpoint file with lamina.load, or "
                            "convert with lamina.from_numpy(t.numpy()))")
                error_msgs.append(msg)
                continue
            lazy = is_lazy(param)
            if is_lazy(value):  # from an unmaterialized model's state_dict: it has no values
                if not lazy:
                    error_msgs.append(
                        f'While copying the parameter named "{key}": the checkpoint holds an '
                        "uninitialized (lazy) tensor, which has no shape or values yet; expected "
                        f"a tensor of shape {_size_str(param.shape)}")
                continue
            if not lazy and param.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                value = value[0]  # torch's backward compatibility for 0-dim params
            if not lazy and tuple(value.shape) != tuple(param.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_size_str(value.shape)} from checkpoint, the shape in current model is "
                    f"{_size_str(param.shape)}.")
                continue
            if dry:
                continue
            txn = local_metadata.get(TXN_KEY)
            try:
                if txn is not None:  # load_state_dict: prepared now, written at the end
                    if assign:
                        txn.assigns.append((self, name, param, value))
                    else:
                        txn.copies.append((param, _prepare_copy(param, value)))
                    continue
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            # keep the Parameter object (optimizers hold it); take the data
                            _set_data(param, value)
                        else:
                            setattr(self, name, value)
                    else:
                        param.copy_(value)
            except Exception as ex:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model '
                    f"are {_size_str(param.shape)} and whose dimensions in the checkpoint are "
                    f"{_size_str(value.shape)}, an exception occurred : {ex.args}.")
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                if not dry:
                    txn = local_metadata.get(TXN_KEY)
                    if txn is not None:
                        txn.extras.append((self, state_dict[extra_key]))
                    else:
                        self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            n = len(prefix)
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head, dot, _ = key[n:].partition(".")
                    if dot:
                        if head not in self._modules:
                            unexpected_keys.append(key)
                    elif head not in local_state:
                        unexpected_keys.append(key)

    def _load_pass(self, state_dict, metadata, assign, dry, txn=None):
        missing, unexpected, errors = [], [], []

        def load(module, local_sd, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            if dry:
                local_metadata[DRY_RUN_KEY] = True
            if txn is not None:
                local_metadata[TXN_KEY] = txn
            module._load_from_state_dict(local_sd, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_sd = {k: v for k, v in local_sd.items() if k.startswith(child_prefix)}
                    load(child, child_sd, child_prefix)
            # post hooks run in the validation pass too: torch lets them edit the key lists
            # in place, and the strict check must see those edits
            if module._load_state_dict_post_hooks:
                keys = _IncompatibleKeys(missing, unexpected)
                for hook in module._load_state_dict_post_hooks.values():
                    out = hook(module, keys)
                    if out is not None:
                        raise RuntimeError("Hooks registered with "
                                           "``register_load_state_dict_post_hook`` are not "
                                           "expected to return new values, if incompatible_keys "
                                           "need to be modified, it should be done inplace.")

        sd = OrderedDict(state_dict)
        if metadata is not None:
            sd._metadata = metadata
        load(self, sd)
        return missing, unexpected, errors

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module and its
        descendants, in place (Parameter objects keep their identity).

        Unlike torch, everything is checked first: when any key is missing or unexpected
        (with ``strict``), any shape differs or any value is not a tensor, a RuntimeError
        lists every problem at once (with hints for a ``module.`` prefix and close key
        names) and the module is left exactly as it was. The copy itself is all-or-nothing
        too: every value is moved and cast before the first write (a read-only or expanded
        destination, or a cast that warns under ``warnings`` as errors, fails there), and a
        failure after that (a raising ``set_extra_state``, a lazy layer that cannot allocate)
        is rolled back. (An overriding ``_load_from_state_dict`` that writes by itself
        instead of calling ``super()`` is outside this guarantee.)

        Args:
            state_dict: a mapping from dotted paths to tensors (e.g. from ``state_dict()``).
            strict: whether the keys must match this module's ``state_dict()`` keys exactly.
            assign: take the checkpoint's tensors instead of copying into the existing ones
                (Parameters stay the same objects and take over the checkpoint's memory).

        Returns:
            ``_IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        if metadata is not None:
            try:
                check_state_dict_metadata(metadata, "load_state_dict")
            except RuntimeError as e:
                raise RuntimeError(f"Error(s) in loading state_dict for "
                                   f"{self.__class__.__name__}:\n\t{e}") from None
        missing, unexpected, errors = self._load_pass(state_dict, metadata, assign, dry=True)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            hints = _key_hints(missing, unexpected) if strict else []
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(errors + hints)))
        # the write pass is one transaction: every copy is prepared (moved, cast, checked)
        # before the first write, and anything that fails (a cast that overflows under
        # warnings-as-errors, a read-only or expanded destination, a lazy layer that cannot
        # allocate, a raising set_extra_state) leaves the module as it was
        txn = _LoadTxn()
        try:
            missing, unexpected, errors = self._load_pass(state_dict, metadata, assign,
                                                          dry=False, txn=txn)
            if errors:  # a copy that cannot be done although validation passed
                raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                    self.__class__.__name__, "\n\t".join(errors)))
            txn.commit()
        except BaseException:
            txn.rollback()
            raise
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return self.__class__.__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of ``repr``; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra_lines = []
        extra_repr = self.extra_repr()
        if extra_repr:
            extra_lines = extra_repr.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines
        main_str = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main_str += extra_lines[0]
            else:
                main_str += "\n  " + "\n  ".join(lines) + "\n"
        main_str += ")"
        return main_str

    def compile(self, *args, **kwargs) -> None:
        """torch.compile is the identity in lamina: nothing to do."""


# ---------------------------------------------------------------------------- backward hooks
class _BackwardHookOp(Op):
    """Identity on the module's inputs (or outputs) whose backward runs the module's full
    backward (pre-)hooks: the graph node that torch calls BackwardHookFunctionBackward."""

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *arrays):
        # the engine zero-fills a missing output gradient from these
        ctx._out_shapes = [(a.shape, a.dtype) for a in arrays]
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        bw = ctx._bw
        if ctx._is_output:
            return bw._on_grad_output(grads)
        return bw._on_grad_input(grads)


class _BackwardHook:
    """One forward call's backward hooks (torch.utils.hooks.BackwardHook's protocol):
    ``hook(module, grad_input, grad_output)`` with tuples aligned to the positional inputs
    and outputs (None where an entry is not a tensor that requires grad)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None
        self._dev = None

    def _apply_on_tensors(self, args, is_output):
        idx = [i for i, a in enumerate(args)
               if isinstance(a, Tensor) and a.requires_grad and a._data.dtype.kind == "f"]
        if not idx or not STATE.enabled:
            return args, None
        tensors = [args[i] for i in idx]
        self._dev = tensors[0]._device
        new = _BackwardHookOp.apply(*tensors)
        if not isinstance(new, tuple):
            new = (new,)
        node = new[0].grad_fn
        node._bw = self
        node._is_output = is_output
        out = list(args)
        for i, t in zip(idx, new):
            out[i] = t
        return (tuple(out) if type(args) is tuple else type(args)(*out)), idx

    def setup_input_hook(self, args):
        res, self.input_tensors_index = self._apply_on_tensors(args, False)
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        if not is_tuple and not isinstance(result, Tensor):
            import warnings

            warnings.warn("For backward hooks to be called, module output should be a Tensor or "
                          f"a tuple of Tensors but received {type(result)}", stacklevel=3)
            return result
        args = result if is_tuple else (result,)
        res, self.output_tensors_index = self._apply_on_tensors(args, True)
        self.n_outputs = len(args)
        return res if is_tuple else res[0]

    def _wrap(self, arrays, index, size):
        out = [None] * size
        for i, a in zip(index, arrays):
            out[i] = None if a is None else _make(a, self._dev)
        return tuple(out)

    def _on_grad_output(self, grads):
        self.grad_outputs = self._wrap(grads, self.output_tensors_index, self.n_outputs)
        for pre in self.user_pre_hooks:
            r = pre(self.module, self.grad_outputs)
            if r is None:
                continue
            if not isinstance(r, tuple):
                r = (r,)
            if len(r) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(r)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = r
        local = self.grad_outputs
        if self.input_tensors_index is None:
            # no input requires grad: the hooks run now, with grad_input all None
            import warnings

            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                r = hook(self.module, grad_inputs, self.grad_outputs)
                if r is not None and not (isinstance(r, tuple) and all(e is None for e in r)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(None if local[i] is None else local[i]._data
                     for i in self.output_tensors_index)

    def _on_grad_input(self, grads):
        if self.grad_outputs is None:
            return grads
        res = self._wrap(grads, self.input_tensors_index, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if not isinstance(out, tuple):
                out = (out,)
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, got "
                                   f"{len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(None if res[i] is None else res[i]._data for i in self.input_tensors_index)


def _members(root, attr, prefix, recurse, remove_duplicate, named):
    """parameters / buffers of the tree: torch's ``_named_members`` over ``named_modules``,
    as one generator (an explicit stack walks the same pre-order, each module once)."""
    memo = set()
    seen = set()
    stack = [(prefix, root)]
    while stack:
        pre, m = stack.pop()
        if remove_duplicate:
            if m in seen:
                continue
            seen.add(m)
        for k, v in getattr(m, attr).items():
            if v is None or v in memo:
                continue
            if remove_duplicate:
                memo.add(v)
            if named:
                yield (pre + "." + k if pre else k), v
            else:
                yield v
        if recurse:
            children = m._modules
            if children:
                stack.extend(reversed([(pre + "." + name if pre else name, c)
                                       for name, c in children.items() if c is not None]))


_MOD_STATE_DICT = Module.state_dict
_MOD_SAVE = Module._save_to_state_dict
_MOD_GET_EXTRA = Module.get_extra_state


def _detached(t: Tensor) -> Tensor:
    return t.detach()


def save_own_state(module, dest, prefix: str, keep_vars: bool, detach=_detached) -> None:
    """The one body of ``_save_to_state_dict``: ``module``'s own parameters, persistent
    buffers and extra state into ``dest`` under ``prefix``. Values are ``detach(t)`` unless
    ``keep_vars`` (lazy modules pass a ``detach`` that keeps pending tensors as they are)."""
    for name, p in module._parameters.items():
        if p is not None:
            dest[prefix + name] = p if keep_vars else detach(p)
    if module._buffers:
        npb = module._non_persistent_buffers_set
        for name, b in module._buffers.items():
            if b is not None and name not in npb:
                dest[prefix + name] = b if keep_vars else detach(b)
    if type(module).get_extra_state is not _MOD_GET_EXTRA:
        dest[prefix + _EXTRA_STATE_KEY_SUFFIX] = module.get_extra_state()


def _save_tree(root, dest, prefix, keep_vars, meta) -> None:
    """``state_dict``'s walk below ``root`` without one ``state_dict`` call per module: the
    same pre-order and keys as torch's recursion. A module that overrides ``state_dict`` or has
    state_dict hooks gets its own ``state_dict`` call, and one that overrides
    ``_save_to_state_dict`` its own call of that, so every override point still runs."""
    stack = [(prefix, root)]
    first = True
    while stack:
        pre, m = stack.pop()
        cls = type(m)
        if first:
            first = False
        elif cls.state_dict is not _MOD_STATE_DICT or m._state_dict_pre_hooks \
                or m._state_dict_hooks:
            m.state_dict(destination=dest, prefix=pre, keep_vars=keep_vars)
            continue
        elif meta is not None:
            meta[pre[:-1]] = {"version": m._version}
        if cls._save_to_state_dict is not _MOD_SAVE:
            m._save_to_state_dict(dest, pre, keep_vars)
        else:
            save_own_state(m, dest, pre, keep_vars)
        children = m._modules
        if children:
            stack.extend(reversed([(pre + name + ".", c) for name, c in children.items()
                                   if c is not None]))


def _remove_from(name, *dicts_or_sets) -> None:
    for d in dicts_or_sets:
        if name in d:
            if isinstance(d, dict):
                del d[name]
            else:
                d.discard(name)


def _prepare_copy(param: Tensor, value: Tensor):
    """The array that ``param.copy_(value)`` would write, made now (moved to param's device,
    cast to its dtype, shape checked) so that the write itself cannot fail."""
    from .._device import backend

    dst = param._data
    if not dst.flags.writeable:
        raise RuntimeError("the destination tensor is read-only (an expanded tensor or a "
                           "read-only array); clone() it before loading into it")
    if any(st == 0 and n > 1 for n, st in zip(dst.shape, dst.strides)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    src = value._data
    if value._device != param._device:
        src = backend(param._device).from_numpy(backend(value._device).to_numpy(src))
    xp = backend(param._device).xp
    if src.dtype != dst.dtype:
        src = src.astype(dst.dtype)  # warns (raises under -W error) where torch's cast would
    if tuple(src.shape) != tuple(dst.shape):
        src = xp.broadcast_to(src, dst.shape)
    return src


class _LoadTxn:
    """``load_state_dict``'s write pass as one transaction.

    Copies are prepared during the pass and written by :meth:`commit`; extra states are set
    after the copies. A lazy layer materialized by the pass registers an undo step. When
    anything fails, :meth:`rollback` restores the module tree: lazy layers become pending
    again, written arrays get their old values back (snapshots are taken only when an
    extra state could still fail after the copies), set extra states are set back to what
    ``get_extra_state`` returned before.
    """

    __slots__ = ("copies", "assigns", "extras", "undo")

    def __init__(self):
        self.copies: list = []
        self.assigns: list = []
        self.extras: list = []
        self.undo: list = []

    def commit(self) -> None:
        from .._device import backend

        snapshot = bool(self.extras)
        for param, src in self.copies:
            dst = param._data
            if snapshot:
                old = dst.copy()
                self.undo.append(lambda dst=dst, old=old: dst.__setitem__(Ellipsis, old))
            backend(param._device).xp.copyto(dst, src, casting="unsafe")
            param._version_counter[0] += 1
        with no_grad():
            for module, name, param, value in self.assigns:
                if isinstance(param, Parameter):
                    # keep the Parameter object (optimizers hold it); take the data
                    old = (param._data, param._device)
                    self.undo.append(lambda p=param, o=old: (_object_setattr(p, "_data", o[0]),
                                                             _object_setattr(p, "_device", o[1])))
                    _set_data(param, value)
                else:
                    self.undo.append(lambda m=module, n=name, o=param: setattr(m, n, o))
                    setattr(module, name, value)
        for module, state in self.extras:
            try:
                before = module.get_extra_state()
            except Exception:  # noqa: BLE001 - nothing to restore it to
                before = _NO_STATE
            if before is not _NO_STATE:
                self.undo.append(lambda m=module, b=before: m.set_extra_state(b))
            module.set_extra_state(state)

    def rollback(self) -> None:
        for fn in reversed(self.undo):
            try:
                fn()
            except Exception:  # noqa: BLE001 - restore as much as possible
                pass
        self.undo.clear()


_NO_STATE = object()


def _set_data(t: Tensor, new: Tensor) -> None:
    """Point ``t`` at ``new``'s array and device, keeping the object (torch's ``t.data = new``)."""
    _object_setattr(t, "_data", new._data)
    _object_setattr(t, "_device", new._device)


def _key_hints(missing, unexpected) -> list[str]:
    """Hints for the load error: a ``module.`` prefix, or close key names."""
    hints = []
    if not missing and not unexpected:
        return hints
    prefix = "module."
    if missing and unexpected:
        stripped = {k[len(prefix):] for k in unexpected if k.startswith(prefix)}
        if stripped and set(missing) <= stripped:
            hints.append(f'Hint: the checkpoint\'s keys start with "{prefix}" (saved from a '
                         "DataParallel / DistributedDataParallel wrapper?); they match after "
                         "removing it: {k.removeprefix('module.'): v for k, v in "
                         "state_dict.items()}")
            return hints
        added = {prefix + k for k in unexpected}
        if set(missing) <= added:
            hints.append(f'Hint: the model\'s keys start with "{prefix}" and the checkpoint\'s '
                         f'do not; load into the wrapped model (model.module) or add the prefix.')
            return hints
    if unexpected:
        for key in missing:
            close = difflib.get_close_matches(key, unexpected, n=1, cutoff=0.6)
            if close:
                hints.append(f'Hint: for missing key "{key}", did you mean "{close[0]}"?')
    return hints
