"""Tracing: run a function eagerly once while recording its array program, then generate a
replay function that calls the same ``Op.forward``s on the same arrays without Tensor objects
or per-op dispatch.

While a trace runs, a few class attributes are swapped for recording versions (``Op.apply``,
``Tensor.backward``, the escape methods of ``Tensor`` such as ``item``, the ``step`` and
``zero_grad`` of optimizers, some creation functions of ``lamina``); they act only on the
tracing thread (other threads run the originals) and are restored when the trace ends, so
eager mode pays nothing.
"""

from __future__ import annotations

import sys
import threading

from .._tensor import Tensor, _make
from ..autograd import engine as _engine
from ..autograd.grad_mode import STATE
from ..ops._op import Op, _fix_out

_new = object.__new__
_LOCK = threading.RLock()  # one trace at a time (the hooks are class attributes)
_local = threading.local()


class Unsupported(RuntimeError):
    """Something in the function cannot be captured (raised with ``fullgraph=True``;
    otherwise the call falls back to eager and the reason is kept)."""


class _Break(Exception):
    pass


def active():
    """The tracer of the calling thread, or None."""
    return getattr(_local, "tracer", None)


# Tensor methods that hand a tensor's values to Python: the program cannot follow them
_ESCAPES = ("item", "tolist", "numpy", "__array__", "__bool__", "__float__", "__int__",
            "__index__", "__complex__", "__format__", "__repr__", "__str__")
# deterministic creation functions of ``lamina``: their results are constants of the program
# (the guards fix every shape); random ones change the generator and are caught by its state
_CREATION = ("zeros", "ones", "full", "empty", "arange", "linspace", "logspace", "eye", "tensor",
             "as_tensor", "zeros_like", "ones_like", "full_like", "empty_like", "scalar_tensor",
             "tril_indices", "triu_indices")


class Tracer:
    """Records one call: ops, backward calls and opaque calls (optimizer steps)."""

    def __init__(self, flat, known, captured, fullgraph):
        self.thread = threading.get_ident()
        self.fullgraph = fullgraph
        self.depth = 0  # > 0 inside an opaque call: nothing is recorded there
        self.broken = None
        self.keep = []  # keeps every array and tensor seen alive (ids stay unique)
        self.slot = {}  # id(array) -> expression naming it in the program
        self.node = {}  # id(trace node) -> variable of its replay node
        self.tvar = {}  # id(Tensor) -> expression of the Tensor itself (inputs, externals)
        self.tensors = {}  # variable -> Tensor for externals and constants
        self.known = known  # ids of tensors reachable from the function before the call
        self.created = {}  # id(Tensor) -> Tensor made by a recorded creation function
        self.versions = []  # (version counter, version) of every tensor the program touched
        self.steps = []  # ("op", ...) / ("backward", ...) / ("call", ...)
        self.out_of = {}  # id(Tensor) -> (array var, node var or None, k)
        self.nodeobj = {}  # node var -> trace node
        self.roots = {}  # id(Tensor) -> (size, ones like it): the seeds of loss.backward()
        self.edges = {}  # node var -> its structured next entries
        self.n = 0
        self.inputs = []
        for i, a in enumerate(flat):
            if isinstance(a, Tensor):
                if id(a._data) in self.slot or id(a) in captured:
                    # the guards do not look at aliasing: run such calls eagerly
                    self.broken = ("an argument shares its array with another argument or with "
                                   "a tensor the function captures")
                self._see(a)
                v = f"a{i}"
                self.slot[id(a._data)] = v + "d"
                self.tvar[id(a)] = v
                self.inputs.append((i, v))

    # -------------------------------------------------------------- helpers
    def fail(self, reason):
        if self.broken is None:
            self.broken = reason
        if self.fullgraph:
            raise Unsupported(reason)

    def _see(self, t):
        self.keep.append(t)
        self.keep.append(t._data)
        self.versions.append((t._version_counter, t._version_counter[0]))

    def _var(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def check_versions(self):
        for vc, v in self.versions:
            if vc[0] != v:
                self.fail("an in-place op changed a tensor of the traced program (in-place "
                          "changes are not recorded)")
                return
        self.versions = [(vc, vc[0]) for vc, _ in self.versions]

    def array_of(self, t):
        """The program's expression for tensor ``t``'s array (registering an external)."""
        e = self.slot.get(id(t._data))
        if e is not None:
            return e
        if id(t) not in self.known and id(t) not in self.created:
            self.fail("a tensor computed outside the recorded ops was used (e.g. a comparison, "
                      "argmax or an unrecorded creation function)")
            return None
        self._see(t)
        if t.grad_fn is not None:
            self.fail("a captured tensor has a grad_fn (only leaves can be captured)")
            return None
        v = self._var("X")
        self.tensors[v] = t
        self.tvar[id(t)] = v
        if id(t) in self.created:
            e = "!" + v  # a constant: its array, taken at trace time
        else:
            e = "@" + v  # an external: its current array, loaded after every opaque call
        self.slot[id(t._data)] = e
        return e

    def edge(self, e):
        """A trace node's ``next`` entry as the program sees it: None, ("n", node var, k),
        ("x", external var) for a captured leaf, or ("a", input var) for an argument."""
        if e is None:
            return None
        if e.__class__ is tuple:
            v = self.node.get(id(e[0]))
            if v is None:
                self.fail("a gradient edge leaves the traced program")
                return None
            return ("n", v, e[1])
        v = self.tvar.get(id(e))
        if v is None:
            self.array_of(e)
            v = self.tvar.get(id(e))
            if v is None:
                return None
        return ("a" if v.startswith("a") else "x", v)

    # -------------------------------------------------------------- recording
    def record_op(self, cls, args, res):
        ins = []
        for a in args:
            if isinstance(a, Tensor):
                e = self.array_of(a)
                if e is None:
                    return
                ins.append(("a", e))
            else:
                ins.append(("k", a))
        node = None
        outs = res if res.__class__ is tuple else (res,)
        g = outs[0].grad_fn
        if g is not None and g.op is cls:
            node = self._var("n")
            self.node[id(g)] = node
            self.nodeobj[node] = g
            nig = list(g.needs_input_grad)
            nxt = [self.edge(e) for e in g.next]
            self.edges[node] = nxt
        else:
            nig = nxt = None
        ov = []
        for k, t in enumerate(outs):
            self._see(t)
            v = self._var("v")
            ov.append(v)
            self.slot[id(t._data)] = v
            self.out_of[id(t)] = (v, node, k)
        dev = outs[0]._device
        self.steps.append(("op", cls, ins, node, nig, nxt, ov, res.__class__ is tuple, dev))

    def tensor_expr(self, t):
        """An expression for Tensor ``t`` at replay (inputs, externals, op outputs)."""
        v = self.tvar.get(id(t))
        if v is not None:
            return v
        o = self.out_of.get(id(t))
        if o is None:
            if self.array_of(t) is None:
                return None
            return self.tvar[id(t)]
        return ("T", id(t), o, t._device, t._requires_grad)

    def record_backward(self, t, gradient, retain_graph, create_graph, inputs):
        if create_graph or inputs is not None:
            self.fail("backward(create_graph=True) or backward(inputs=...) is not captured")
            return
        root = self.tensor_expr(t)
        if t._requires_grad and gradient is None:
            from .._device import backend

            d = t._data
            self.roots[id(t)] = (d.size, backend(t._device).xp.ones(d.shape, d.dtype))
        g = None
        if gradient is not None:
            if not isinstance(gradient, Tensor):
                self.fail("backward(gradient=...) with a non-tensor gradient is not captured")
                return
            g = self.tensor_expr(gradient)
        self.check_versions()
        self.steps.append(["backward", root, g, retain_graph, None])

    def record_call(self, obj, name, args, kwargs):
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor) or callable(a):
                self.fail(f"{type(obj).__name__}.{name}() with a tensor or callable argument "
                          f"is not captured")
                return
        self.check_versions()
        self.steps.append(("call", obj, name, args, kwargs))


# ------------------------------------------------------------------ hooks
_orig = {}


def _op_apply(cls, *args):
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.depth or tr.broken is not None:
        return _orig["apply"](cls, *args)
    if "apply" in cls.__dict__ or cls.__dict__.get("_compile_opaque"):
        tr.fail(f"{cls.__name__} overrides Op.apply")
        return _orig["apply"](cls, *args)
    res = _orig["apply"](cls, *args)
    tr.record_op(cls, args, res)
    return res


def _op_apply2(cls, x, y):
    tr = getattr(_local, "tracer", None)
    if tr is None or tr.depth or tr.broken is not None:
        return _orig["apply2"](cls, x, y)
    if "apply" in cls.__dict__ or cls.__dict__.get("_compile_opaque"):
        tr.fail(f"{cls.__name__} overrides Op.apply")
        return _orig["apply2"](cls, x, y)
    res = _orig["apply2"](cls, x, y)
    tr.record_op(cls, (x, y), res)
    return res


def _own_apply(orig):
    def apply(cls, *args, **kwargs):
        tr = getattr(_local, "tracer", None)
        if tr is not None and not tr.depth:
            tr.fail(f"{cls.__name__}.apply is not captured (it builds its own node)")
        return orig.__func__(cls, *args, **kwargs)
    return classmethod(apply)


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    tr = getattr(_local, "tracer", None)
    f = _orig["backward"]
    if tr is None or tr.depth or tr.broken is not None:
        return f(self, gradient, retain_graph, create_graph, inputs)
    n = len(tr.steps)
    tr.record_backward(self, gradient, retain_graph, create_graph, inputs)
    tr.depth += 1
    spies = []
    log = []
    if len(tr.steps) > n:
        for v, node in tr.nodeobj.items():
            if node.op.__class__ is type:
                spies.append(node)
                node.op = _Spy(node.op, v, log)
    try:
        return f(self, gradient, retain_graph, create_graph, inputs)
    finally:
        tr.depth -= 1
        for node in spies:
            node.op = node.op.cls
        if len(tr.steps) > n:
            tr.steps[-1][4] = log


class _Spy:
    """Stands for a traced node's op during the trace's backward: records the order in which
    the engine runs the nodes and which gradients came out None."""

    def __init__(self, cls, var, log):
        self.cls = cls
        self.var = var
        self.log = log
        self.check_freed = cls.check_freed

    def backward(self, n, *gs):
        r = self.cls.backward(n, *gs)
        t = r if r.__class__ is tuple else (r,)
        self.log.append((self.var, [g is None for g in t], [g is None for g in gs]))
        return r

    def __getattr__(self, name):
        return getattr(self.cls, name)


def _run_backward(*a, **k):
    tr = getattr(_local, "tracer", None)
    if tr is not None and not tr.depth:
        tr.fail("autograd.backward/autograd.grad is not captured (use loss.backward())")
    return _orig["run_backward"](*a, **k)


def _escape(name, orig):
    def method(self, *a, **k):
        tr = getattr(_local, "tracer", None)
        if tr is not None and not tr.depth:
            tr.fail(f"Tensor.{name}() reads a tensor's values into Python (data-dependent "
                    f"control flow cannot be captured)")
        return orig(self, *a, **k)
    method.__name__ = name
    return method


def _opaque(name, orig):
    def method(self, *a, **k):
        tr = getattr(_local, "tracer", None)
        if tr is None or tr.depth or tr.broken is not None:
            return orig(self, *a, **k)
        tr.record_call(self, name, a, k)
        tr.depth += 1
        try:
            return orig(self, *a, **k)
        finally:
            tr.depth -= 1
            tr.versions = [(vc, vc[0]) for vc, _ in tr.versions]
    method.__name__ = name
    return method


def _creation(orig):
    def fn(*a, **k):
        tr = getattr(_local, "tracer", None)
        if tr is None or tr.depth:
            return orig(*a, **k)
        r = orig(*a, **k)
        if isinstance(r, Tensor):
            tr.created[id(r)] = r
            tr.keep.append(r)
        return r
    return fn


# methods that change Python-side state (parameters, grads, learning rates): run again, as
# they are, at their place in the program on every replay
_OPAQUE = (("lamina.optim.optimizer", "Optimizer", ("step", "zero_grad")),
           ("lamina.optim.lr_scheduler", "LRScheduler", ("step",)),
           ("lamina.nn.module", "Module", ("zero_grad",)))


def _shortcut(orig, pick):
    """A layer's ``forward`` that computes without its op when no node is needed (no_grad):
    the op it stands for is recorded (its forward does the same math on the same arrays)."""
    def forward(self, input, *a, **k):
        r = orig(self, input, *a, **k)
        tr = getattr(_local, "tracer", None)
        if tr is not None and not tr.depth and tr.broken is None and isinstance(r, Tensor) \
                and id(r._data) not in tr.slot:
            picked = pick(self, input)
            if picked is None:
                tr.fail(f"{type(self).__name__}.forward computed without a recorded op")
            else:
                tr.record_op(picked[0], picked[1], r)
        return r
    return forward


def _linear_op(mod):
    # the no-grad shortcut of ops.linalg.linear_checked computes Linear.forward's arrays
    from ..ops.linalg import Linear

    def pick(self, input):
        return Linear, (input, self.weight, self.bias)
    return pick


def _relu_op(mod):
    # the no-grad shortcut of ops.unary.relu computes Relu.forward's array
    from ..ops.unary import Relu

    def pick(self, input):
        return Relu, (input,)
    return pick


# layers whose forward skips the op when there is nothing to record
_SHORTCUTS = (("lamina.nn.modules.linear", "Linear", _linear_op),
              ("lamina.nn.modules.activation", "ReLU", _relu_op))


def _subclasses(root):
    out, todo = {}, [root]
    while todo:
        c = todo.pop()
        if c not in out:
            out[c] = None
            todo.extend(c.__subclasses__())
    return list(out)


def _install():
    """Swap in the recording attributes; returns the list of (owner, name, original)."""
    import lamina

    saved = []

    def put(owner, name, value):
        saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    _orig["apply"] = Op.__dict__["apply"].__func__
    put(Op, "apply", classmethod(_op_apply))
    _orig["apply2"] = Op.__dict__["apply2"].__func__
    put(Op, "apply2", classmethod(_op_apply2))
    # the operators' fast path (ops._op.binary_method) holds the original apply/apply2: trace
    # through the public function it falls back to, which looks the op up at each call
    for name, m in list(Tensor.__dict__.items()):
        fb = getattr(m, "_fallback", None)
        if fb is not None:
            put(Tensor, name, fb)
    for c in _subclasses(Op):
        if c is not Op and "apply" in c.__dict__:
            put(c, "apply", _own_apply(c.__dict__["apply"]))
    fmod = sys.modules.get("lamina.autograd.function")
    if fmod is not None:
        f = fmod.Function
        put(f, "apply", _own_apply(f.__dict__["apply"]))
    _orig["backward"] = Tensor.__dict__["backward"]
    put(Tensor, "backward", _backward)
    _orig["run_backward"] = _engine.run_backward
    put_mod = [(_engine, "run_backward", _engine.run_backward)]
    _engine.run_backward = _run_backward
    for name in _ESCAPES:
        put(Tensor, name, _escape(name, Tensor.__dict__[name]))
    for modname, clsname, names in _OPAQUE:
        m = sys.modules.get(modname)
        root = getattr(m, clsname, None) if m is not None else None
        if root is None:
            continue
        for c in _subclasses(root):
            for name in names:
                if name in c.__dict__:
                    put(c, name, _opaque(name, c.__dict__[name]))
    for modname, clsname, pick in _SHORTCUTS:
        m = sys.modules.get(modname)
        c = getattr(m, clsname, None) if m is not None else None
        if c is not None and "forward" in c.__dict__:
            put(c, "forward", _shortcut(c.__dict__["forward"], pick(m)))
    for name in _CREATION:
        f = lamina.__dict__.get(name)
        if f is not None:
            put_mod.append((lamina, name, f))
            setattr(lamina, name, _creation(f))
    return saved, put_mod


def _uninstall(saved):
    saved, put_mod = saved
    for owner, name, value in reversed(saved):
        setattr(owner, name, value)
    for mod, name, value in put_mod:
        setattr(mod, name, value)


def _reachable_args(args, kwargs):
    from . import _reachable

    return _reachable([args, kwargs])


def _rng_state():
    from .. import random

    return random.default_generator.get_state()._data.tobytes()


def trace(fn, args, kwargs, flat, captured, fullgraph):
    """Run ``fn(*args, **kwargs)`` eagerly while recording. Returns (result, tracer)."""
    with _LOCK:
        known = captured | _reachable_args(args, kwargs)
        tr = Tracer(flat, known, captured, fullgraph)
        rng = _rng_state()
        saved = _install()
        _local.tracer = tr
        try:
            res = fn(*args, **kwargs)
        finally:
            _local.tracer = None
            _uninstall(saved)
        if tr.broken is None:
            tr.check_versions()
            if _rng_state() != rng:
                # an opaque call (optimizer step) may draw too; then the trace is not replayed
                tr.fail("a random op drew from the default generator")
        if tr.broken is None:
            tr.result = res
        return res, tr


# ------------------------------------------------------------------ code generation
class _Env:
    def __init__(self):
        self.g = {"_new": _new, "_make": _make, "STATE": STATE}
        self.n = 0

    def const(self, value, prefix="K"):
        self.n += 1
        name = f"{prefix}{self.n}_"
        self.g[name] = value
        return name


def generate(tr, res):
    """The replay function of a finished trace: ``run(A)`` with ``A`` the flat arguments."""
    from .._device import backend

    env = _Env()
    env.g["_fix"] = _fix_out
    lines = ["def run(A):"]
    body = []
    for i, v in tr.inputs:
        body.append(f"{v} = A[{i}]")
        body.append(f"{v}d = {v}._data")
    # externals' requires_grad is part of the guards
    checks = []
    for v, t in tr.tensors.items():
        env.g[v] = t
        checks.append(f"{v}._requires_grad is {bool(t._requires_grad)}")
    if checks:
        body.append(f"if not ({' and '.join(checks)}): return MISS")
    loaded = set()
    made = {}  # id(Tensor) -> variable of its replay Tensor

    def arr(e):
        if e[0] == "@":
            v = e[1:]
            if v not in loaded:
                body.append(f"{v}d = {v}._data")
                loaded.add(v)
            return v + "d"
        if e[0] == "!":
            v = e[1:]
            return env.const(tr.tensors[v]._data)
        return e

    def tensor(x):
        if isinstance(x, str):
            return x
        _, tid, (av, node, k), dev, rg = x
        v = made.get(tid)
        if v is None:
            v = made[tid] = f"T{len(made)}"
            d = env.const(dev, "D")
            if node is not None:
                body.append(f"{v} = _make({av}, {d}, True, {node}, {k})")
            else:
                body.append(f"{v} = _make({av}, {d})")
        return v

    for st in tr.steps:
        kind = st[0]
        if kind == "op":
            _, cls, ins, node, nig, nxt, ov, is_tuple, dev = st
            b = backend(dev)
            xp = env.const(b.xp, "xp")
            fwd = env.const(cls.forward, "F")
            argl = [arr(e) if t == "a" else env.const(e) for t, e in ins]
            if node is None:
                # no graph: one ctx per op, made once and reused on every replay
                c = env.const(cls._node(cls, b.xp, dev), "C")
            else:
                c = node
                body.append(f"{c} = _new({env.const(cls._node, 'N')})")
                body.append(f"{c}.op = {env.const(cls, 'O')}; {c}.xp = {xp}; "
                            f"{c}.device = {env.const(dev, 'D')}; {c}.saved = ()")
                body.append(f"{c}.needs_input_grad = {nig!r}; "
                            f"{c}.next = [{', '.join(_edge_src(e) for e in nxt)}]")
            at = env.const(b.array_type, "AT")
            bk = env.const(b, "B")
            if is_tuple:
                o = tr._var("o")
                body.append(f"{o} = {fwd}({c}, {', '.join(argl)})")
                body.append(f"if {o}.__class__ is not {at}: {o} = _fix({o}, {bk})")
                if node is not None:
                    body.append(f"{c}.n_out = {len(ov)}")
                    body.append(f"{c}._out_shapes = [(q.shape, q.dtype) for q in {o}]")
                body.append(f"{', '.join(ov)}, = {o}")
            else:
                o = ov[0]
                body.append(f"{o} = {fwd}({c}, {', '.join(argl)})")
                body.append(f"if {o}.__class__ is not {at}: {o} = _fix({o}, {bk})")
        elif kind == "backward":
            _, root, g, retain, log = st
            if g is None and _inline_ok(tr, root, log):
                _inline_backward(tr, env, body, root, retain, log)
                continue
            r = tensor(root)
            gx = "None" if g is None else tensor(g)
            bw = env.const(_orig["backward"], "BW")
            body.append(f"{bw}({r}, {gx}, {retain!r})")
        else:
            _, obj, name, a, k = st
            f = env.const(obj, "P")
            body.append(f"getattr({f}, {name!r})(*{env.const(a)}, **{env.const(k)})")
            loaded.clear()

    def out(x):
        if isinstance(x, Tensor):
            if id(x) in tr.created:
                return f"_make({arr(tr.slot[id(x._data)])}.copy(), {env.const(x._device, 'D')})"
            e = tr.tensor_expr(x)
            if e is None:
                raise _Break
            return tensor(e)
        if x is None or isinstance(x, (bool, int, float, str)):
            return repr(x) if not isinstance(x, float) else env.const(x)
        if x.__class__ is tuple:
            return "(" + "".join(out(y) + ", " for y in x) + ")"
        if x.__class__ is list:
            return "[" + ", ".join(out(y) for y in x) + "]"
        if x.__class__ is dict:
            return "{" + ", ".join(f"{env.const(k)}: {out(y)}" for k, y in x.items()) + "}"
        if hasattr(x, "_fields") and isinstance(x, tuple):  # named tuples (torch.return_types)
            return f"{env.const(type(x))}(" + ", ".join(out(y) for y in x) + ")"
        if isinstance(x, tuple):  # torch.Size and other tuple subclasses of constants
            return env.const(x)
        raise _Break

    try:
        body.append(f"return {out(res)}")
    except _Break:
        return None, "the function returns a value the program cannot rebuild"
    if tr.broken is not None:  # (a tensor_expr above may have failed)
        return None, tr.broken
    env.g["MISS"] = MISS
    src = "\n".join(lines + ["    " + ln for ln in body]) + "\n"
    code = compile(src, "<lamina.compile replay>", "exec")
    exec(code, env.g)  # noqa: S102 - our own generated program
    run = env.g["run"]
    run.source = src
    return run, None


MISS = object()


def _edge_src(e):
    if e is None:
        return "None"
    if e[0] == "n":
        return f"({e[1]}, {e[2]})"
    if e[0] == "x":
        return e[1]
    v = e[1]  # an argument: a leaf now, maybe not on a later call
    return f"({v} if {v}.grad_fn is None else ({v}.grad_fn, {v}._out))"


def _reach(tr, start):
    """Nodes reachable from ``start`` in the engine's discovery order, and leaf edge counts."""
    seen = {start: None}
    stack = [start]
    ldeps = {}
    while stack:
        for e in tr.edges.get(stack.pop(), ()):
            if e is None:
                continue
            if e[0] == "n":
                if e[1] not in seen:
                    seen[e[1]] = None
                    stack.append(e[1])
            else:
                ldeps[e[1]] = ldeps.get(e[1], 0) + 1
    return seen, ldeps


def _inline_ok(tr, root, log):
    """The backward can be written out as straight-line code when it is the plain
    ``loss.backward()`` of a node output, with no hooks and only captured leaves."""
    if log is None or isinstance(root, str):
        return False
    _, tid, (av, node, k), dev, rg = root
    if node is None:
        return False
    seen, ldeps = _reach(tr, node)
    for v in seen:
        g = tr.nodeobj[v]
        if g._pre_hooks or g._hooks:
            return False
        for e in tr.edges[v]:
            if e is not None and e[0] == "a":
                return False
    for v in ldeps:
        t = tr.tensors.get(v)
        if t is None or t._hooks:
            return False
    info = tr.roots.get(tid)
    return info is not None and info[0] == 1


def _inline_backward(tr, env, body, root, retain, log):
    """Write the engine's run for this graph as code: the same backward calls in the order
    the engine ran them at trace time, the same sums in the same order, leaves accumulated
    by the engine's own ``_accumulate`` when their last gradient arrives."""
    from ..autograd.graph import _FREED

    _, tid, (av, node, k), dev, rg = root
    seen, ldeps = _reach(tr, node)
    acc = env.const(_engine._accumulate, "ACC")
    freed = env.const(_FREED, "FREED")
    zeros = env.const(_engine._zeros_for, "Z")
    one = env.const(tr.roots[tid][1], "ONE")
    kept = tr._var("kept")
    body.append(f"{kept} = set()")
    buf = {}  # (node var, k) -> variable holding its gradient so far

    def n_out(v):
        return tr.nodeobj[v].n_out

    def add(v, kk, expr):
        b = buf.get((v, kk))
        if b is None:
            b = buf[(v, kk)] = tr._var("g")
            body.append(f"{b} = {expr}")
        else:
            body.append(f"{b} = {b} + {expr}")

    add(node, k, f"{one}.copy()")
    pending = {}  # leaf var -> [grad var, given var or None, remaining count]
    for v, none_out, none_in in log:
        no = n_out(v)
        bw = env.const(tr.nodeobj[v].op.backward, "BWF")
        r = tr._var("r")
        if no == 1:
            gs = buf[(v, 0)]
            given = f"({gs},)"
            body.append(f"{r} = {bw}({v}, {gs})")
        else:
            given = tr._var("gl")
            items = []
            for kk in range(no):
                b = buf.get((v, kk))
                items.append(b if b is not None else f"{zeros}({v}, {kk})")
            body.append(f"{given} = [{', '.join(items)}]")
            body.append(f"{r} = {bw}({v}, *{given})")
        body.append(f"if {r}.__class__ is not tuple: {r} = ({r},)")
        if not retain:
            body.append(f"if {v}.saved: {v}.saved = {freed}")
        for i, e in enumerate(tr.edges[v]):
            if e is None or i >= len(none_out) or none_out[i]:
                continue
            gi = f"{r}[{i}]"
            if e[0] == "n":
                add(e[1], e[2], gi)
                continue
            lv = e[1]
            p = pending.get(lv)
            if p is None:
                gv = tr._var("p")
                gvn = tr._var("pg")
                body.append(f"{gv} = {gi}; {gvn} = {given}")
                p = pending[lv] = [gv, gvn, ldeps[lv]]
            else:
                body.append(f"{p[0]} = {p[0]} + {gi}; {p[1]} = None")
            p[2] -= 1
            if p[2] == 0:
                del pending[lv]
                body.append(f"{acc}({lv}, {p[0]}, {p[1]}, {kept}, _make)")
    for lv, p in pending.items():
        body.append(f"{acc}({lv}, {p[0]}, {p[1]}, {kept}, _make)")
