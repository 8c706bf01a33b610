"""``lamina.compile`` and ``lamina.compiler`` (torch.compiler's names).

A compiled function or module traces its first call for given guards (the shapes, dtypes,
devices and ``requires_grad`` of its tensor arguments, the values of its other arguments, grad
mode, and a module's ``training`` flag), recording the array program: which ``Op.forward``
runs on which arrays, the ``loss.backward()`` calls and the optimizer calls. Later calls with
the same guards replay that program: the same forwards on the same arrays (so results are
bit for bit those of eager), backward through the ordinary engine on lightweight nodes, the
optimizer's own ``step``. What cannot be captured falls back to eager for those guards, with
the reason in :func:`fallback_reasons` (``fullgraph=True`` raises :class:`Unsupported`).
See docs/compile.md.
"""

from __future__ import annotations

import functools
import threading
import types
import weakref

from .._tensor import Tensor
from ..autograd.grad_mode import STATE
from ._trace import MISS, Unsupported, active, generate, trace

__all__ = ["compile", "reset", "is_compiling", "is_dynamo_compiling", "disable", "config",
           "fallback_reasons", "Unsupported", "OptimizedModule"]


class _Config:
    """``recompile_limit``: guard sets traced per compiled callable before new ones run
    eagerly (torch._dynamo.config.recompile_limit, 8)."""

    recompile_limit = 8


config = _Config()

_COMPILED: weakref.WeakSet = weakref.WeakSet()
_FALLBACKS: list = []
_fb_lock = threading.Lock()


def fallback_reasons():
    """(name, reason) of every guard set that fell back to eager since the last reset()."""
    with _fb_lock:
        return list(_FALLBACKS)


def reset() -> None:
    """Forget every traced program (torch.compiler.reset): the next calls trace again."""
    for c in list(_COMPILED):
        c._cache.clear()
    with _fb_lock:
        _FALLBACKS.clear()


def is_compiling() -> bool:
    """True while the calling thread traces a compiled function."""
    return active() is not None


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive=True, *, reason=None):
    """Run ``fn`` eagerly: called inside a compiled function it ends the capture there (the
    function falls back to eager for those guards), as torch's graph break."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tr = active()
        if tr is not None and not tr.depth:
            tr.fail(f"{getattr(fn, '__qualname__', fn)} is wrapped by lamina.compiler.disable"
                    + (f" ({reason})" if reason else ""))
        return fn(*args, **kwargs)

    wrapper._lamina_disabled = True
    return wrapper


class _Fallback:
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


def _guard(a, key, flat):
    if isinstance(a, Tensor):
        flat.append(a)
        d = a._data
        key.append((d.shape, d.dtype, a._device, a._requires_grad))
    elif a.__class__ in (tuple, list) and any(isinstance(x, Tensor) for x in a):
        key.append((a.__class__, len(a)))
        for x in a:
            _guard(x, key, flat)
    else:
        flat.append(a)
        try:
            hash(a)
            key.append((a.__class__, a))
        except TypeError:
            key.append(("id", id(a)))


def _reachable(roots, depth=4):
    """ids of the tensors the function can reach before it runs: parameters, buffers and
    tensor attributes of modules, optimizer parameters and state, closures, globals."""
    from ..nn.module import Module

    seen, out = set(), set()

    def walk(o, d):
        if id(o) in seen or d < 0:
            return
        seen.add(id(o))
        if isinstance(o, Tensor):
            out.add(id(o))
            return
        if isinstance(o, Module):
            for m in o.modules():
                for t in m._parameters.values():
                    if t is not None:
                        out.add(id(t))
                for t in m._buffers.values():
                    if t is not None:
                        out.add(id(t))
                for v in vars(m).values():
                    if isinstance(v, Tensor):
                        out.add(id(v))
            return
        if isinstance(o, (list, tuple, set, frozenset)):
            for x in o:
                walk(x, d - 1)
            return
        if isinstance(o, dict):
            for x in o.values():
                walk(x, d - 1)
            return
        if isinstance(o, types.MethodType):
            walk(o.__self__, d)
            walk(o.__func__, d)
            return
        if isinstance(o, functools.partial):
            walk(o.func, d)
            walk(o.args, d)
            walk(o.keywords, d)
            return
        if isinstance(o, types.FunctionType):
            for c in o.__closure__ or ():
                try:
                    walk(c.cell_contents, d - 1)
                except ValueError:
                    pass
            walk(o.__defaults__ or (), d - 1)
            g = o.__globals__
            for name in _names(o.__code__):
                if name in g:
                    walk(g[name], d - 1)
            return
        if isinstance(o, types.ModuleType) or isinstance(o, type):
            return
        dd = getattr(o, "__dict__", None)
        if dd is not None:
            walk(dd, d - 1)
            if hasattr(o, "param_groups"):  # an optimizer: its state is keyed by tensor
                st = getattr(o, "state", None)
                if isinstance(st, dict):
                    walk(list(st.values()), d - 1)

    for r in roots:
        walk(r, depth)
    return out


def _names(code):
    out = list(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out.extend(_names(c))
    return out


class _CompiledFunction:
    """The callable ``lamina.compile(fn)`` returns."""

    def __init__(self, fn, fullgraph, recompile_limit, module=None):
        self._fn = fn
        self._fullgraph = fullgraph
        self._limit = recompile_limit
        self._module = module
        self._cache: dict = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, fn, updated=())
        _COMPILED.add(self)

    def __get__(self, obj, objtype=None):  # @lamina.compile on a method
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if active() is not None:  # inside another trace: inline (recorded there)
            return self._fn(*args, **kwargs)
        key = [STATE.enabled]
        m = self._module
        if m is not None:
            key.append(m.training)
        flat = []
        for a in args:
            _guard(a, key, flat)
        if kwargs:
            for k in sorted(kwargs):
                key.append(k)
                _guard(kwargs[k], key, flat)
        key = tuple(key)
        e = self._cache.get(key)
        if e is not None:
            if e.__class__ is _Fallback:
                return self._fn(*args, **kwargs)
            r = e(flat)
            if r is not MISS:
                return r
            del self._cache[key]
        return self._trace(key, flat, args, kwargs)

    def _name(self):
        return getattr(self._fn, "__qualname__", None) or repr(self._fn)

    def _fallback(self, key, reason):
        if self._fullgraph:
            raise Unsupported(reason)
        self._cache[key] = _Fallback(reason)
        with _fb_lock:
            _FALLBACKS.append((self._name(), reason))

    def _trace(self, key, flat, args, kwargs):
        limit = config.recompile_limit if self._limit is None else self._limit
        if len(self._cache) >= limit:
            reason = f"recompile_limit ({limit}) reached"
            if self._fullgraph:
                raise Unsupported(reason)
            with _fb_lock:
                _FALLBACKS.append((self._name(), reason))
            return self._fn(*args, **kwargs)
        res, tr = trace(self._fn, args, kwargs, flat, _reachable([self._fn]), self._fullgraph)
        if tr.broken is not None:
            self._fallback(key, tr.broken)
            return res
        run, reason = generate(tr, res)
        if run is None:
            self._fallback(key, reason)
        else:
            self._cache[key] = run
        return res


def _module_class():
    from ..nn.module import Module

    class OptimizedModule(Module):
        """What ``lamina.compile(module)`` returns: the module as ``_orig_mod`` (so state_dict
        keys start with ``_orig_mod.``, as torch's), called through the compiled program."""

        def __init__(self, mod, compiled):
            super().__init__()
            self._orig_mod = mod
            self.__dict__["_compiled"] = compiled
            self.training = mod.training

        def forward(self, *args, **kwargs):
            return self.__dict__["_compiled"](*args, **kwargs)

        def __call__(self, *args, **kwargs):
            return self.__dict__["_compiled"](*args, **kwargs)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.__dict__["_modules"]["_orig_mod"], name)

        def __len__(self):
            return len(self._orig_mod)

    OptimizedModule.__module__ = __name__
    return OptimizedModule


_OM = []


def __getattr__(name):
    if name == "OptimizedModule":
        if not _OM:
            _OM.append(_module_class())
        return _OM[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """torch.compile: a function or module that replays its recorded array program.

    ``fullgraph=True`` raises :class:`Unsupported` where the call would fall back to eager.
    ``dynamic``, ``backend``, ``mode`` and ``options`` are accepted for torch's signature;
    lamina specializes every program on its input shapes (each new shape is traced again, up to
    ``recompile_limit``, default ``lamina.compiler.config.recompile_limit``).
    ``disable=True`` returns ``model`` unchanged.
    """
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, name=name, disable=disable,
                                 recompile_limit=recompile_limit,
                                 isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if not callable(model):
        raise RuntimeError(f"torch.compile expects a callable, got {type(model).__name__}")
    if disable:
        return model
    from ..nn.module import Module

    if isinstance(model, Module):
        cf = _CompiledFunction(model.__call__, fullgraph, recompile_limit, module=model)
        return __getattr__("OptimizedModule")(model, cf)
    return _CompiledFunction(model, fullgraph, recompile_limit)
