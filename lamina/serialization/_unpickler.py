"""Unpicklers: a restricted one for ``weights_only=True`` and a full one for trusted files.

The restricted unpickler is its own small pickle virtual machine (it never calls Python's
``pickle.Unpickler``). A global is resolved only through an explicit allow-list of
``(module, name)`` pairs: torch's tensor rebuild functions, storage types, dtypes,
``torch.Size``, ``torch.device``, ``OrderedDict`` and a few builtin containers, plus what the
user adds with :func:`add_safe_globals`. Anything else stops the load before any object is
built from it, and calls (REDUCE, NEWOBJ), attribute updates (BUILD) and container appends
are limited to allowed types, so a hostile pickle cannot reach ``os.system``, ``eval`` or any
other callable: it runs nothing.
"""

from __future__ import annotations

import codecs
import pickle
import struct
from collections import Counter, OrderedDict

from ._rebuild import SAFE_BUILTINS, torch_names, unsupported_torch_global
from ._zipformat import CheckpointError

__all__ = ["WeightsUnpickler", "FullUnpickler", "add_safe_globals", "get_safe_globals",
           "clear_safe_globals", "safe_globals", "UnpicklingError"]

UnpicklingError = pickle.UnpicklingError

# Never allowed, even through add_safe_globals: loading from these is code execution.
_BLOCKED_MODULES = ("os", "posix", "nt", "sys", "subprocess", "shutil", "socket", "importlib",
                    "runpy", "code", "codeop", "ctypes", "pickle", "_pickle", "marshal",
                    "multiprocessing", "signal", "pty", "webbrowser")
_BLOCKED_BUILTINS = {"eval", "exec", "compile", "open", "getattr", "setattr", "delattr",
                     "__import__", "globals", "locals", "vars", "input", "breakpoint", "exit",
                     "quit", "help", "memoryview", "type", "object", "super", "classmethod",
                     "staticmethod", "property"}

_user_globals: dict[str, object] = {}


def _blocked(module: str, name: str) -> bool:
    root = module.split(".", 1)[0]
    if root in _BLOCKED_MODULES:
        return True
    return module in ("builtins", "__builtin__") and name in _BLOCKED_BUILTINS


def _full_name(obj) -> str:
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(mod, str) or not isinstance(qual, str):
        raise TypeError(f"add_safe_globals: cannot tell the module and name of {obj!r}; pass "
                        f"(obj, 'module.name') instead")
    return f"{mod}.{qual}"


def add_safe_globals(safe_globals) -> None:
    """Allow more globals for ``lamina.load(weights_only=True)`` (as torch's function).

    Args:
        safe_globals: a list of classes/functions, or ``(obj, "module.name")`` pairs for
            objects whose pickled name differs from ``obj.__module__ + "." + obj.__qualname__``.

    Only allow what you trust: an allowed class can be instantiated with any arguments by a
    checkpoint. Globals from ``os``, ``sys``, ``subprocess``, ``builtins.eval`` and the like are
    refused.
    """
    if not isinstance(safe_globals, (list, tuple, set)):
        raise TypeError(f"add_safe_globals: expected a list of globals, got "
                        f"{type(safe_globals).__name__}")
    new = {}
    for g in safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2 or not isinstance(g[1], str):
                raise ValueError(f"add_safe_globals: expected (obj, 'module.name'), got {g!r}")
            obj, name = g
        else:
            obj, name = g, _full_name(g)
        module, _, attr = name.rpartition(".")
        if _blocked(module, attr):
            raise ValueError(f"add_safe_globals: {name} is blocked: loading it lets a file run "
                             f"arbitrary code")
        new[name] = obj
    _user_globals.update(new)


def get_safe_globals() -> list:
    """The globals added with :func:`add_safe_globals`."""
    return list(_user_globals.values())


def clear_safe_globals() -> None:
    """Forget every global added with :func:`add_safe_globals`."""
    _user_globals.clear()


class safe_globals:
    """Context manager: ``with safe_globals([MyClass]): lamina.load(path)``."""

    def __init__(self, safe_globals):
        self._globals = safe_globals
        self._saved = None

    def __enter__(self):
        self._saved = dict(_user_globals)
        add_safe_globals(self._globals)
        return self

    def __exit__(self, *exc):
        _user_globals.clear()
        _user_globals.update(self._saved)
        return False


def _is_module_class(module: str, name: str) -> bool:
    """Whether ``module.name`` is an nn.Module subclass, judged without importing anything."""
    import sys

    mod = sys.modules.get(module)
    obj = vars(mod).get(name) if mod is not None else None
    if not isinstance(obj, type):
        return False
    from ..nn.module import Module

    return issubclass(obj, Module)


def _refusal(module: str, name: str, op: str = "GLOBAL") -> UnpicklingError:
    full = f"{module}.{name}"
    shown = name if module in ("builtins", "__builtin__") else full
    if _blocked(module, name):
        return UnpicklingError(
            f"lamina.load refused the global {full} ({op}): module {module} is blocked because "
            f"loading it would let the file run arbitrary code. Do not load this file unless "
            f"you know where it comes from (then: weights_only=False).")
    if _is_module_class(module, name):
        return UnpicklingError(
            f"lamina.load(weights_only=True) refused the global {full} ({op}): the checkpoint "
            f"holds a whole model (saved with lamina.save(model, path)), and rebuilding a "
            f"model unpickles arbitrary classes, which can run code. If you trust this file, "
            f"load it with lamina.load(path, weights_only=False); better, save "
            f"model.state_dict() and load it with model.load_state_dict(lamina.load(path)).")
    return UnpicklingError(
        f"lamina.load(weights_only=True) refused the global {full} ({op}): only tensors, "
        f"parameters, containers of them, dtypes, devices and sizes are allowed, because "
        f"unpickling other objects can run code. If you trust this file, load it with "
        f"weights_only=False; or allow just this global with "
        f"lamina.serialization.add_safe_globals([{shown}]).")


def _resolve_name(module: str, name: str, proto: int):
    """(module, name) -> allowed object, or raise the refusal."""
    if proto < 3:
        import _compat_pickle

        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    key = (module, name)
    obj = torch_names().get(key)
    if obj is not None:
        return obj
    obj = SAFE_BUILTINS.get(key)
    if obj is not None:
        return obj
    if _blocked(module, name):
        raise _refusal(module, name)
    obj = _user_globals.get(f"{module}.{name}")
    if obj is not None:
        return obj
    if module == "torch" or module.startswith("torch."):
        raise UnpicklingError(f"lamina.load: {unsupported_torch_global(module, name)}")
    raise _refusal(module, name)


_DICT_TYPES = (dict, OrderedDict, Counter)
_unpack_i = struct.Struct("<i").unpack_from
_unpack_I = struct.Struct("<I").unpack_from
_unpack_H = struct.Struct("<H").unpack_from
_unpack_Q = struct.Struct("<Q").unpack_from
_unpack_d = struct.Struct(">d").unpack_from


class WeightsUnpickler:
    """A pickle interpreter that builds only allow-listed objects.

    Args:
        data: the whole pickle (bytes).
        persistent_load: called with each persistent id (a tuple) to get the storage.
        encoding: how to decode Python 2 ``str`` objects (``'bytes'`` keeps bytes).
    """

    def __init__(self, data: bytes, persistent_load, encoding: str = "utf-8"):
        self.data = data
        self.pos = 0
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        self.proto = 0
        self._allowed_ids: set = set()

    # ------------------------------------------------------------------ reading
    def _take(self, n: int) -> bytes:
        p = self.pos
        end = p + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError("lamina.load: the pickle data was truncated")
        self.pos = end
        return self.data[p:end]

    def _line(self) -> bytes:
        p = self.pos
        end = self.data.find(b"\n", p)
        if end < 0:
            raise UnpicklingError("lamina.load: the pickle data was truncated")
        self.pos = end + 1
        return self.data[p:end]

    def _pop_mark(self) -> list:
        items = self.stack
        if not self.metastack:
            raise UnpicklingError("lamina.load: malformed pickle (no MARK on the stack)")
        self.stack = self.metastack.pop()
        return items

    def _top(self):
        if not self.stack:
            raise UnpicklingError("lamina.load: malformed pickle (empty stack)")
        return self.stack[-1]

    def _pop(self):
        if not self.stack:
            raise UnpicklingError("lamina.load: malformed pickle (empty stack)")
        return self.stack.pop()

    # ------------------------------------------------------------------ main loop
    def load(self):
        """Run the pickle; return its object."""
        dispatch = _DISPATCH
        data = self.data
        n = len(data)
        try:
            while True:
                if self.pos >= n:
                    raise UnpicklingError("lamina.load: the pickle data was truncated (no STOP)")
                op = data[self.pos]
                self.pos += 1
                fn = dispatch.get(op)
                if fn is None:
                    raise UnpicklingError(f"lamina.load: unsupported or invalid pickle opcode "
                                          f"{bytes([op])!r} at byte {self.pos - 1}")
                if fn is _stop:
                    return self._pop()
                fn(self)
        except (UnpicklingError, CheckpointError):
            raise
        except _Passthrough as p:
            raise p.error from None
        except (IndexError, KeyError, TypeError, ValueError, struct.error, AttributeError,
                UnicodeDecodeError, OverflowError, RecursionError, MemoryError) as e:
            raise UnpicklingError(f"lamina.load: malformed pickle data ({type(e).__name__}: "
                                  f"{e})") from None

    def _allow(self, obj):
        self._allowed_ids.add(id(obj))
        return obj

    def _callable(self, func, op):
        from .._tensor import Tensor

        if id(func) not in self._allowed_ids or not callable(func) or (
                isinstance(func, type) and issubclass(func, Tensor)):
            # tensor classes are allowed only as arguments (_rebuild_from_type_v2): calling
            # them would let a file allocate arbitrary amounts of memory
            raise UnpicklingError(f"lamina.load(weights_only=True): {op} of {func!r}, which is "
                                  f"not an allowed function")
        return func

    def _global(self, module: str, name: str):
        self.stack.append(self._allow(_resolve_name(module, name, self.proto)))


def _stop(self):  # handled in load()
    pass


def _proto(self):
    self.proto = self._take(1)[0]
    if self.proto > pickle.HIGHEST_PROTOCOL:
        raise UnpicklingError(f"lamina.load: unsupported pickle protocol {self.proto}")


def _frame(self):
    (n,) = _unpack_Q(self._take(8))
    if n > len(self.data) - self.pos:
        raise UnpicklingError("lamina.load: the pickle data was truncated (frame)")


def _mark(self):
    self.metastack.append(self.stack)
    self.stack = []


def _pop(self):
    if self.stack:
        self.stack.pop()
    else:
        self._pop_mark()


def _pop_mark(self):
    self._pop_mark()


def _dup(self):
    self.stack.append(self._top())


def _push(value):
    def op(self):
        self.stack.append(value)
    return op


def _int(self):
    line = self._line()
    if line == b"00":
        self.stack.append(False)
    elif line == b"01":
        self.stack.append(True)
    else:
        self.stack.append(int(line, 0))


def _binint(self):
    self.stack.append(_unpack_i(self._take(4))[0])


def _binint1(self):
    self.stack.append(self._take(1)[0])


def _binint2(self):
    self.stack.append(_unpack_H(self._take(2))[0])


def _long(self):
    line = self._line()
    if line.endswith(b"L"):
        line = line[:-1]
    self.stack.append(int(line, 0))


def _long1(self):
    n = self._take(1)[0]
    self.stack.append(pickle.decode_long(self._take(n)))


def _long4(self):
    (n,) = _unpack_i(self._take(4))
    if n < 0:
        raise UnpicklingError("lamina.load: LONG pickle has negative byte count")
    self.stack.append(pickle.decode_long(self._take(n)))


def _float(self):
    self.stack.append(float(self._line()))


def _binfloat(self):
    self.stack.append(_unpack_d(self._take(8))[0])


def _decode_str(self, b: bytes):
    if self.encoding == "bytes":
        return b
    return b.decode(self.encoding, "strict")


def _string(self):
    data = self._line().rstrip()
    if len(data) >= 2 and data[0] == data[-1] and data[0] in b"\"'":
        data = data[1:-1]
    else:
        raise UnpicklingError("lamina.load: the STRING opcode argument must be quoted")
    self.stack.append(_decode_str(self, codecs.escape_decode(data)[0]))


def _binstring(self):
    (n,) = _unpack_i(self._take(4))
    if n < 0:
        raise UnpicklingError("lamina.load: BINSTRING pickle has negative byte count")
    self.stack.append(_decode_str(self, self._take(n)))


def _short_binstring(self):
    n = self._take(1)[0]
    self.stack.append(_decode_str(self, self._take(n)))


def _unicode(self):
    self.stack.append(str(self._line(), "raw-unicode-escape"))


def _binunicode(self):
    (n,) = _unpack_I(self._take(4))
    self.stack.append(str(self._take(n), "utf-8", "surrogatepass"))


def _short_binunicode(self):
    n = self._take(1)[0]
    self.stack.append(str(self._take(n), "utf-8", "surrogatepass"))


def _binunicode8(self):
    (n,) = _unpack_Q(self._take(8))
    self.stack.append(str(self._take(n), "utf-8", "surrogatepass"))


def _binbytes(self):
    (n,) = _unpack_I(self._take(4))
    self.stack.append(self._take(n))


def _short_binbytes(self):
    n = self._take(1)[0]
    self.stack.append(self._take(n))


def _binbytes8(self):
    (n,) = _unpack_Q(self._take(8))
    self.stack.append(self._take(n))


def _bytearray8(self):
    (n,) = _unpack_Q(self._take(8))
    self.stack.append(bytearray(self._take(n)))


def _tuple(self):
    items = tuple(self._pop_mark())  # before touching self.stack: pop_mark swaps it
    self.stack.append(items)


def _tuple_n(k):
    def op(self):
        st = self.stack
        if len(st) < k:
            raise UnpicklingError("lamina.load: malformed pickle (short stack for TUPLE)")
        items = tuple(st[len(st) - k:])
        del st[len(st) - k:]
        st.append(items)
    return op


def _empty_list(self):
    self.stack.append([])


def _list(self):
    items = self._pop_mark()
    self.stack.append(items)


def _empty_dict(self):
    self.stack.append({})


def _dict(self):
    items = self._pop_mark()
    if len(items) % 2:
        raise UnpicklingError("lamina.load: malformed pickle (odd DICT items)")
    self.stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})


def _empty_set(self):
    self.stack.append(set())


def _frozenset(self):
    items = frozenset(self._pop_mark())
    self.stack.append(items)


def _check_list(obj):
    if type(obj) is not list:
        raise UnpicklingError(f"lamina.load(weights_only=True): can only append to lists, "
                              f"got {type(obj).__name__}")


def _append(self):
    item = self._pop()
    lst = self._top()
    _check_list(lst)
    lst.append(item)


def _appends(self):
    items = self._pop_mark()
    lst = self._top()
    _check_list(lst)
    lst.extend(items)


def _check_dict(obj, op):
    if type(obj) not in _DICT_TYPES:
        raise UnpicklingError(f"lamina.load(weights_only=True): {op} only on dict, OrderedDict "
                              f"or Counter, got {type(obj).__name__}")


def _setitem(self):
    v = self._pop()
    k = self._pop()
    d = self._top()
    _check_dict(d, "SETITEM")
    d[k] = v


def _setitems(self):
    items = self._pop_mark()
    d = self._top()
    _check_dict(d, "SETITEMS")
    if len(items) % 2:
        raise UnpicklingError("lamina.load: malformed pickle (odd SETITEMS items)")
    for i in range(0, len(items), 2):
        d[items[i]] = items[i + 1]


def _additems(self):
    items = self._pop_mark()
    s = self._top()
    if type(s) is not set:
        raise UnpicklingError(f"lamina.load(weights_only=True): ADDITEMS only on sets, got "
                              f"{type(s).__name__}")
    s.update(items)


def _get(self):
    idx = int(self._line())
    self.stack.append(self.memo[idx])


def _binget(self):
    self.stack.append(self.memo[self._take(1)[0]])


def _long_binget(self):
    self.stack.append(self.memo[_unpack_I(self._take(4))[0]])


def _put(self):
    idx = int(self._line())
    if idx < 0:
        raise UnpicklingError("lamina.load: negative PUT argument")
    self.memo[idx] = self._top()


def _binput(self):
    self.memo[self._take(1)[0]] = self._top()


def _long_binput(self):
    self.memo[_unpack_I(self._take(4))[0]] = self._top()


def _memoize(self):
    self.memo[len(self.memo)] = self._top()


def _global_op(self):
    module = self._line().decode("utf-8")
    name = self._line().decode("utf-8")
    self._global(module, name)


def _stack_global(self):
    name = self._pop()
    module = self._pop()
    if type(name) is not str or type(module) is not str:
        raise UnpicklingError("lamina.load: STACK_GLOBAL requires str module and name")
    self._global(module, name)


# allowed globals that iterate their arguments: given a tensor they would unbind it into one
# Python object per element (a stride-0 tensor of 10**8 elements from a 1 KB file), so their
# arguments must be containers the pickle itself built (bounded by the file's size)
_ITERATING = (set, frozenset, Counter, OrderedDict)
_PLAIN_ARGS = (tuple, list, dict, OrderedDict, Counter, set, frozenset, str, bytes)


def _check_iterated_args(func, args, kwargs, op):
    if func not in _ITERATING:
        return
    for a in (*args, *kwargs.values()):
        if type(a) not in _PLAIN_ARGS:
            raise UnpicklingError(
                f"lamina.load(weights_only=True): {op} of {func.__name__} with an argument of "
                f"type {type(a).__module__}.{type(a).__qualname__}; only plain containers "
                f"(tuple, list, dict, set, str, bytes) may be iterated while loading")


def _reduce(self):
    args = self._pop()
    func = self._callable(self._pop(), "REDUCE")
    if type(args) is not tuple:
        raise UnpicklingError("lamina.load: REDUCE arguments must be a tuple")
    _check_iterated_args(func, args, {}, "REDUCE")
    self.stack.append(func(*args))


def _new_instance(self, cls, args, kwargs, op):
    from .._tensor import Tensor
    from ._rebuild import _parameter_class

    Parameter = _parameter_class()
    if cls is Parameter:  # torch's unpickler allows Parameter(data, requires_grad) too
        return Parameter(*args, **kwargs)
    if not isinstance(cls, type) or id(cls) not in self._allowed_ids:
        raise UnpicklingError(f"lamina.load(weights_only=True): {op} of {cls!r}, which is not "
                              f"an allowed class")
    if issubclass(cls, Tensor):
        raise UnpicklingError(f"lamina.load(weights_only=True): {op} of {cls!r} is not "
                              f"allowed; tensors are rebuilt from storages")
    _check_iterated_args(cls, args, kwargs, op)
    return cls.__new__(cls, *args, **kwargs)


def _newobj(self):
    args = self._pop()
    cls = self._pop()
    if type(args) is not tuple:
        raise UnpicklingError("lamina.load: NEWOBJ arguments must be a tuple")
    self.stack.append(_new_instance(self, cls, args, {}, "NEWOBJ"))


def _newobj_ex(self):
    kwargs = self._pop()
    args = self._pop()
    cls = self._pop()
    if type(args) is not tuple or type(kwargs) is not dict:
        raise UnpicklingError("lamina.load: NEWOBJ_EX needs a tuple and a dict")
    self.stack.append(_new_instance(self, cls, args, kwargs, "NEWOBJ_EX"))


def _build(self):
    from .._tensor import Tensor

    state = self._pop()
    inst = self._top()
    t = type(inst)
    if isinstance(inst, Tensor):
        raise UnpicklingError("lamina.load(weights_only=True): BUILD (setting the state) of a "
                              "tensor is not allowed; tensors are rebuilt from storages")
    if t is OrderedDict or t is Counter:
        if isinstance(state, tuple) and len(state) == 2 and not state[1]:
            state = state[0]
        if state is None:
            return
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise UnpicklingError(f"lamina.load: BUILD of an {t.__name__} needs a dict of "
                                  f"attributes")
        for k, v in state.items():
            if k.startswith("__") or hasattr(t, k):
                # e.g. an instance attribute 'keys' would hide the dict's entries from
                # load_state_dict
                raise UnpicklingError(f"lamina.load(weights_only=True): BUILD of an "
                                      f"{t.__name__} may not set the attribute {k!r}: it "
                                      f"shadows a method of the class")
            if k == "_metadata":
                from ..nn.module import check_state_dict_metadata

                check_state_dict_metadata(v, "lamina.load", UnpicklingError)
        inst.__dict__.update(state)
        return
    if id(t) in self._allowed_ids and t.__module__ != "builtins":
        # a user-allowed class: pickle's own BUILD semantics
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None and getattr(t, "__setstate__", None) is not \
                getattr(object, "__setstate__", None):
            setstate(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        if state:
            inst.__dict__.update(state)
        if slotstate:
            for k, v in slotstate.items():
                setattr(inst, k, v)
        return
    raise UnpicklingError(f"lamina.load(weights_only=True): BUILD (setting the state) of a "
                          f"{t.__module__}.{t.__qualname__} is not allowed")


class _Passthrough(Exception):
    """Carries an error of the caller's code (a map_location function) out unchanged."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _load_persistent(self, pid):
    try:
        return self.persistent_load(pid)
    except (UnpicklingError, CheckpointError):
        raise
    except Exception as e:  # noqa: BLE001 - re-raised as is by load()
        raise _Passthrough(e) from None


def _persid(self):
    pid = self._line().decode("ascii")
    self.stack.append(_load_persistent(self, pid))


def _binpersid(self):
    self.stack.append(_load_persistent(self, self._pop()))


def _refuse(what):
    def op(self):
        raise UnpicklingError(f"lamina.load(weights_only=True): the pickle uses the {what} "
                              f"opcode, which a checkpoint never needs; refused")
    return op


_P = pickle
_DISPATCH = {
    _P.PROTO[0]: _proto, _P.FRAME[0]: _frame, _P.STOP[0]: _stop, _P.MARK[0]: _mark,
    _P.POP[0]: _pop, _P.POP_MARK[0]: _pop_mark, _P.DUP[0]: _dup,
    _P.NONE[0]: _push(None), _P.NEWTRUE[0]: _push(True), _P.NEWFALSE[0]: _push(False),
    _P.INT[0]: _int, _P.BININT[0]: _binint, _P.BININT1[0]: _binint1, _P.BININT2[0]: _binint2,
    _P.LONG[0]: _long, _P.LONG1[0]: _long1, _P.LONG4[0]: _long4,
    _P.FLOAT[0]: _float, _P.BINFLOAT[0]: _binfloat,
    _P.STRING[0]: _string, _P.BINSTRING[0]: _binstring, _P.SHORT_BINSTRING[0]: _short_binstring,
    _P.UNICODE[0]: _unicode, _P.BINUNICODE[0]: _binunicode,
    _P.SHORT_BINUNICODE[0]: _short_binunicode, _P.BINUNICODE8[0]: _binunicode8,
    _P.BINBYTES[0]: _binbytes, _P.SHORT_BINBYTES[0]: _short_binbytes,
    _P.BINBYTES8[0]: _binbytes8, _P.BYTEARRAY8[0]: _bytearray8,
    _P.EMPTY_TUPLE[0]: _push(()),
    _P.TUPLE[0]: _tuple, _P.TUPLE1[0]: _tuple_n(1), _P.TUPLE2[0]: _tuple_n(2),
    _P.TUPLE3[0]: _tuple_n(3),
    _P.EMPTY_LIST[0]: _empty_list, _P.LIST[0]: _list, _P.APPEND[0]: _append,
    _P.APPENDS[0]: _appends,
    _P.EMPTY_DICT[0]: _empty_dict, _P.DICT[0]: _dict, _P.SETITEM[0]: _setitem,
    _P.SETITEMS[0]: _setitems,
    _P.EMPTY_SET[0]: _empty_set, _P.ADDITEMS[0]: _additems, _P.FROZENSET[0]: _frozenset,
    _P.GET[0]: _get, _P.BINGET[0]: _binget, _P.LONG_BINGET[0]: _long_binget,
    _P.PUT[0]: _put, _P.BINPUT[0]: _binput, _P.LONG_BINPUT[0]: _long_binput,
    _P.MEMOIZE[0]: _memoize,
    _P.GLOBAL[0]: _global_op, _P.STACK_GLOBAL[0]: _stack_global,
    _P.REDUCE[0]: _reduce, _P.NEWOBJ[0]: _newobj, _P.NEWOBJ_EX[0]: _newobj_ex,
    _P.BUILD[0]: _build,
    _P.PERSID[0]: _persid, _P.BINPERSID[0]: _binpersid,
    _P.INST[0]: _refuse("INST"), _P.OBJ[0]: _refuse("OBJ"),
    _P.EXT1[0]: _refuse("EXT1"), _P.EXT2[0]: _refuse("EXT2"), _P.EXT4[0]: _refuse("EXT4"),
    _P.NEXT_BUFFER[0]: _refuse("NEXT_BUFFER"), _P.READONLY_BUFFER[0]: _refuse("READONLY_BUFFER"),
}


class FullUnpickler(pickle.Unpickler):
    """Python's unpickler for trusted files (``weights_only=False``): any importable global,
    but torch's names still map to lamina objects and torch is never imported."""

    def __init__(self, file, persistent_load, **kwargs):
        super().__init__(file, **kwargs)
        self._pl = persistent_load

    def persistent_load(self, pid):
        return self._pl(pid)

    def find_class(self, module, name):
        obj = torch_names().get((module, name))
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            raise UnpicklingError(f"lamina.load: {unsupported_torch_global(module, name)}")
        return super().find_class(module, name)
