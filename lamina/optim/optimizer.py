"""Optimizer: the base class of every optimizer (param groups, state, state_dict, hooks).

Subclasses implement ``step`` on raw backend arrays: the update runs in place on
``p._data`` with the namespace of the parameter's device, records no autograd graph and
bumps the parameter's version counter, as PyTorch's in-place updates do.
"""

from __future__ import annotations

import functools
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as _np

from .. import _dtype as D
from .._device import CPU, backend
from .._tensor import Tensor, _make
from ..nn.module import _typename

__all__ = [
    "Optimizer",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
    "required",
]



class _RequiredParameter:
    """Singleton marking a hyper-parameter that has no default (torch.optim.optimizer.required)."""

    def __repr__(self) -> str:
        return "<required parameter>"

    def __reduce__(self):
        return "required"


required = _RequiredParameter()


class _RemovableHandle:
    """Handle returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_GLOBAL_PRE_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_POST_HOOKS: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> _RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``."""
    h = _RemovableHandle(_GLOBAL_PRE_HOOKS)
    _GLOBAL_PRE_HOOKS[h.id] = hook
    return h


def register_optimizer_step_post_hook(hook: Callable) -> _RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    h = _RemovableHandle(_GLOBAL_POST_HOOKS)
    _GLOBAL_POST_HOOKS[h.id] = hook
    return h


def _run_hooked(fn, self, args, kwargs):
    args = (self,) + args
    for pre in chain(_GLOBAL_PRE_HOOKS.values(), self._optimizer_step_pre_hooks.values()):
        res = pre(self, args, kwargs)
        if res is not None:
            if isinstance(res, tuple) and len(res) == 2:
                args, kwargs = res
            else:
                raise RuntimeError(f"{fn} must return None or a tuple of (new_args, new_kwargs), "
                                   f"but got {res}.")
    out = fn(*args, **kwargs)
    for post in chain(self._optimizer_step_post_hooks.values(), _GLOBAL_POST_HOOKS.values()):
        post(self, args, kwargs)
    return out


def _hook_step(fn):
    """Wrap a subclass's ``step`` so that step pre/post hooks run (one dict test when none)."""

    @functools.wraps(fn)
    def step(self, *args, **kwargs):
        self._opt_called = True  # lets a scheduler warn when it is stepped first
        if self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or \
                _GLOBAL_PRE_HOOKS or _GLOBAL_POST_HOOKS:
            return _run_hooked(fn, self, args, kwargs)
        return fn(self, *args, **kwargs)

    step._hooked = True
    return step


def _is_uninitialized(p) -> bool:
    """True for a lazy module's not-yet-materialized parameter (its shape is unknown)."""
    return any(c.__name__.startswith("Uninitialized") for c in type(p).__mro__)


def _scalar_np_dtype():
    # torch keeps `step` in float64 only when the default dtype is float64
    return _np.float64 if D.get_default_dtype() is D.float64 else _np.float32


def _step_tensor(value: float = 0.0) -> Tensor:
    """The per-parameter step counter: a 0-d float tensor on the cpu, as torch keeps it."""
    return _make(_np.array(value, dtype=_scalar_np_dtype()), CPU)


def _zeros_like(p) -> Tensor:
    """A state buffer shaped like parameter ``p``, on its device, in its dtype."""
    return _make(backend(p._device).xp.zeros_like(p._data), p._device)


def _full_like(p, value) -> Tensor:
    return _make(backend(p._device).xp.full_like(p._data, value), p._device)


def _to_param(value: Tensor, p, key=None) -> Tensor:
    """A copy of state tensor ``value`` on p's device (and in p's dtype unless it is 'step')."""
    arr = value._data
    if key != "step" and p._data.dtype.kind == "f" and arr.dtype != p._data.dtype:
        arr = arr.astype(p._data.dtype)
    if key != "step" and value._device is not p._device:
        arr = backend(p._device).from_numpy(backend(value._device).to_numpy(arr))
        return _make(arr.copy(), p._device)
    return _make(arr.copy(), value._device)


def _to_scalar(x):
    """A hyper-parameter as a Python number (a 1-element Tensor lr/beta becomes its value)."""
    return x.item() if isinstance(x, Tensor) else x


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors (Parameters), of ``(name, Tensor)`` pairs, or of dicts
            (parameter groups, each with a ``"params"`` entry and optional options).
        defaults: default values of the optimization options, used by the groups that do
            not set them.

    Attributes:
        param_groups: list of dicts; ``"params"`` holds the group's Tensors, the other keys
            its options (read again at every ``step``, so schedulers can change them).
        state: ``defaultdict(dict)`` keyed by parameter; filled lazily at the first ``step``.
        defaults: the default options.
    """

    # names of state entries shaped like the parameter (re-created when the parameter's shape
    # changes, i.e. a lazy module materialized after the optimizer took its first step)
    _param_state_keys: tuple = ()
    # whether per-parameter state tensors have their parameter's shape (checked on load);
    # False for optimizers with flat global state (LBFGS)
    _state_shaped_like_params: bool = True
    # group options that a state saved by an older version may lack, with the defaults
    # __setstate__ (and so load_state_dict) fills in, in torch's order
    _group_setdefaults: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("step")
        if fn is not None and not getattr(fn, "_hooked", False):
            cls.step = _hook_step(fn)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ pickling and repr
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for name, default in self._group_setdefaults.items():
                group.setdefault(name, default)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        s += ")"
        return s

    # ------------------------------------------------------------------ hooks
    def _register(self, hooks: OrderedDict, hook, prepend: bool = False) -> _RemovableHandle:
        h = _RemovableHandle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` runs before ``step``."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None`` runs after ``step``."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer) -> None`` runs before ``state_dict``."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer, state_dict) -> state_dict | None`` runs after ``state_dict``."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer, state_dict) -> state_dict | None`` runs before loading."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer) -> None`` runs after ``load_state_dict``."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {id: {...}}, "param_groups": [...]}``.

        Parameters are replaced by integer ids (their position across all groups), exactly
        as in PyTorch, so the dict can be saved with ``lamina.save`` and read by torch.
        The state tensors are the optimizer's own (not copies), as in PyTorch.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                if id(p) not in param_mappings:
                    param_mappings[id(p)] = i
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            res = post_hook(self, state_dict)
            if res is not None:
                state_dict = res
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by ``state_dict`` (lamina's, or torch's converted to lamina).

        Validates everything before changing anything: the number of groups, their sizes and
        (beyond PyTorch) the shape of every per-parameter state tensor. State tensors are
        copied onto each parameter's device and dtype (``step`` keeps its dtype), so the
        loaded dict is never aliased. Values that are arrays (NumPy, or CPU torch tensors)
        are converted to lamina tensors.

        Raises:
            ValueError: group count, group size or state shape mismatch.
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            res = pre_hook(self, state_dict)
            if res is not None:
                state_dict = res
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                return _to_param(value, param, key)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if key == "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                return _step_tensor(float(value))
            if hasattr(value, "__array__") and hasattr(value, "shape") and \
                    not isinstance(value, (str, bytes)):
                if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
                    arr = _np.array(value.detach().cpu().numpy())
                else:
                    arr = _np.array(value)
                if arr.dtype.kind == "f" and arr.dtype not in (_np.float32, _np.float64,
                                                               _np.float16):
                    arr = arr.astype(_np.float32)
                return _to_param(_make(arr, CPU), param, key)
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        problems = []
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                new = cast(param, v)
                if isinstance(new, dict) and not _is_uninitialized(param) and \
                        self._state_shaped_like_params:
                    for key, t in new.items():
                        if isinstance(t, Tensor) and t._data.ndim and \
                                t._data.shape != param._data.shape:
                            problems.append(f"state '{key}' of parameter {k} has shape "
                                            f"{tuple(t._data.shape)}; expected "
                                            f"{tuple(param._data.shape)}")
                state[param] = new
            else:
                state[k] = v
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state does not fit the "
                             f"parameters (nothing was loaded):\n  " + "\n  ".join(problems))

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------ grads and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, as PyTorch 2.x)."""
        from ..nn.module import zero_grads

        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], float] | None = None):
        """Perform a single optimization step (implemented by subclasses).

        Args:
            closure: re-evaluates the model and returns the loss (run with grad enabled).
        """
        raise NotImplementedError(
            f"{type(self).__name__}.step: every Optimizer subclass must implement step()")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (e.g. layers unfrozen while fine-tuning).

        Raises:
            TypeError: ``param_group`` is not a dict, its params are a set, or an entry is
                not a Tensor.
            ValueError: a non-leaf tensor, a missing required option, or a parameter that is
                already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and \
                    not (param.grad_fn is None or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set: set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ helpers for subclasses
    def _state_stale(self, st: dict, p) -> bool:
        """True when p's state no longer fits p (re-created by the caller).

        The shape changes when a lazy module materializes after the optimizer stepped; the
        device or dtype change with ``model.to(...)``: then the state is moved, not reset.
        """
        d = p._data
        for k in self._param_state_keys:
            v = st.get(k)
            if v is None:
                continue
            a = v._data
            if a.shape != d.shape:
                return True
            if a.dtype != d.dtype or v._device is not p._device:
                st[k] = _to_param(v, p)
        return False


def _check_differentiable(differentiable: bool) -> None:
    if differentiable:
        raise RuntimeError("lamina optimizers update parameters in place on raw arrays and "
                           "cannot be differentiated; got differentiable=True, expected False")


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_args(lr, *, differentiable: bool = False, **hyper) -> None:
    """The argument checks of torch's optimizer constructors, with torch's messages, in the
    order given: ``lr`` first; then ``betas`` each in [0, 1), ``rho`` in [0, 1] and every other
    keyword >= 0 (``Invalid <name> value: <v>``, so torch's ``eps`` is passed as ``epsilon``);
    then ``differentiable`` must be False."""
    _check_lr(lr)
    for name, v in hyper.items():
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= v[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {v[i]}")
        elif name == "rho":
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"Invalid rho value: {v}")
        elif not 0.0 <= v:
            raise ValueError(f"Invalid {name} value: {v}")
    _check_differentiable(differentiable)
