"""The backward engine: iterative topological order, gradient accumulation, retain_graph."""

from __future__ import annotations

from .._tensor import _make
from .graph import _FREED, _SECOND_BACKWARD, Node


def _check_versions(node):
    for vc, v, arr, who in node._versions:
        if vc[0] != v:
            from .._tensor import _type_str

            if who.__class__ is tuple:
                src, k = who
            else:  # a saved input: torch names the op that produced it, as it is now
                src, k = who.grad_fn, who._out
            what = "" if src is None else f", which is output {k} of {_op_name(src)},"
            shape = list(arr.shape)
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_str(arr)} {shape}]{what} is at version {vc[0]}; "
                f"expected version {v} instead. Hint: the backtrace further above can point to "
                f"the operation that failed to compute its gradient; do the change out of place "
                f"(e.g. x = x + 1 instead of x += 1), or clone() the tensor before changing it.")


def _op_name(node) -> str:
    """'Exp' for an ExpBackward0 node, as torch's message names the forward op."""
    if isinstance(node, type):  # a node class (recorded for an op's own output)
        from .graph import _TORCH_NS

        n = node.__name__
        n = "torch::autograd::" + n if n in _TORCH_NS else n
    else:
        n = node.name()
    i = n.rfind("Backward")
    return n[:i] if i > 0 else n


def run_backward(roots, retain_graph=False, inputs=None, accumulate=True):
    """Propagate gradients from ``roots``: a list of (tensor, grad array) pairs.

    With ``accumulate`` the leaves' ``.grad`` are updated; otherwise (autograd.grad) the
    gradients of ``inputs`` are returned and no ``.grad`` changes.
    """
    # 1. dependency counts over the reachable graph, with an explicit stack (no recursion);
    # per leaf (keyed by id: Tensor.__hash__ is a Python function), the number of
    # contributions to come: a leaf is accumulated as soon as its last one arrives (as
    # torch's AccumulateGrad), so its hooks run while backward goes on (DDP)
    deps: dict = {}
    ldeps: dict = {}
    stack = []
    for t, _ in roots:
        g = t.grad_fn
        if g is not None and g not in deps:
            deps[g] = 0
            stack.append(g)
    pop = stack.pop
    push = stack.append
    get = deps.get
    lget = ldeps.get
    while stack:
        for e in pop().next:
            if e.__class__ is tuple:
                m = e[0]
                c = get(m)
                if c is None:
                    deps[m] = 1
                    push(m)
                else:
                    deps[m] = c + 1
            elif e is not None:
                k = id(e)
                ldeps[k] = lget(k, 0) + 1

    _callbacks.append([])
    try:
        return _run(roots, retain_graph, inputs, deps, ldeps)
    finally:
        _callbacks.pop()


def queue_callback(fn) -> None:
    """Run ``fn()`` once the current backward pass has finished (torch's
    ``Variable._execution_engine.queue_callback``); DDP waits for its all-reduces there."""
    if not _callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _callbacks[-1].append(fn)


_callbacks: list = []  # one list per running backward (nested backward passes stack)


def _run(roots, retain_graph, inputs, deps, ldeps):
    kept: set = set()  # ids of the arrays kept as some leaf's new .grad
    captured = None
    capture_nodes = None
    eager = inputs is None
    if inputs is not None:
        captured = {}
        capture_nodes = {}
        for k, t in enumerate(inputs):
            if t.grad_fn is not None:
                capture_nodes.setdefault((t.grad_fn, t._out), []).append(k)

    # 2. seed the root gradients
    buf: dict = {}
    # leaves with contributions still to come (or all of them, without `eager`):
    # id -> [leaf, summed gradient, the node's incoming gradients while there is one]
    leaf_pending: dict = {}
    ready = []
    for t, g in roots:
        n = t.grad_fn
        if n is None:
            _add_leaf(leaf_pending, t, g, (g,))
        elif n not in buf:
            if n.n_out == 1:
                buf[n] = g
            else:
                _add_grad(buf, n, t._out, g)
            if deps[n] == 0:
                ready.append(n)
        else:
            _add_grad(buf, n, t._out, g)
    pop_ready = ready.pop
    push_ready = ready.append
    buf_pop = buf.pop
    buf_get = buf.get
    # 3. process nodes when all their gradients have arrived
    while ready:
        n = pop_ready()
        gs = buf_pop(n)
        n_out = n.n_out
        if n._pre_hooks:
            gl = _run_pre_hooks(n, [gs] if n_out == 1 else gs, _make)
            gs = gl[0] if n_out == 1 else gl
        if capture_nodes is not None:
            for k in range(n_out):
                ks = capture_nodes.get((n, k))
                if ks:
                    for j in ks:
                        captured[j] = gs if n_out == 1 else gs[k]
        saved = n.saved
        op = n.op
        if saved is _FREED and op.check_freed:
            raise RuntimeError(_SECOND_BACKWARD)
        if n._versions is not None:
            _check_versions(n)
        if n_out == 1:
            grads = op.backward(n, gs)
            given = (gs,)
        else:
            gl = list(gs)
            for k in range(n_out):
                if gl[k] is None:
                    gl[k] = _zeros_for(n, k)
            grads = op.backward(n, *gl)
            given = gl
        if grads.__class__ is not tuple:
            grads = (grads,)
        if n._hooks:
            _run_post_hooks(n, grads, given, _make)
        if saved and not retain_graph:
            n.saved = _FREED
        i = 0
        for e in n.next:
            gi = grads[i]
            i += 1
            if e is None or gi is None:
                continue
            if e.__class__ is tuple:
                m = e[0]
                if m.n_out == 1:
                    prev = buf_get(m)
                    buf[m] = gi if prev is None else prev + gi
                else:
                    _add_grad(buf, m, e[1], gi)
                c = deps[m] - 1
                deps[m] = c
                if c == 0:
                    push_ready(m)
                continue
            k = id(e)
            p = leaf_pending.get(k)
            if eager:
                c = ldeps[k]
                if c == 1:  # the last contribution (most leaves get one): accumulate now
                    if p is None:
                        _accumulate(e, gi, given, kept, _make)
                    else:
                        del leaf_pending[k]
                        _accumulate(e, p[1] + gi, None, kept, _make)
                    continue
                ldeps[k] = c - 1
            if p is None:
                leaf_pending[k] = [e, gi, given]
            else:
                p[1] = p[1] + gi
                p[2] = None

    # 4. leaves (in arrival order; several contributions to one leaf are summed)
    if captured is not None:
        for k, t in enumerate(inputs):
            if t.grad_fn is None and id(t) in leaf_pending:
                captured[k] = leaf_pending[id(t)][1]
        return captured
    for t, g, given in leaf_pending.values():
        _accumulate(t, g, given, kept, _make)
    cbs = _callbacks[-1]
    while cbs:  # a callback may queue another
        cbs.pop(0)()
    return None


def _add_leaf(pending, t, g, given):
    e = pending.get(id(t))
    if e is None:
        pending[id(t)] = [t, g, given]
    else:
        e[1] = e[1] + g
        e[2] = None


def _zeros_for(n, k):
    shapes = getattr(n, "_out_shapes", None)
    if shapes is None:
        return None
    shape, dt = shapes[k]
    return n.xp.zeros(shape, dt)


def _add_grad(buf, node, k, g):
    if node.n_out == 1:
        prev = buf.get(node)
        buf[node] = g if prev is None else prev + g
    else:
        lst = buf.get(node)
        if lst is None:
            lst = buf[node] = [None] * node.n_out
        prev = lst[k]
        lst[k] = g if prev is None else prev + g


def _accumulate(t, g, given, kept, _make):
    hooks = t._hooks
    if hooks:
        for h in list(hooks):
            if h.__class__ is _PostAccumulate:
                continue
            r = h(_make(g, t._device))
            if r is not None:
                g = r._data
                given = None
    d = t._data
    if g.dtype is not d.dtype and g.dtype != d.dtype:
        g = g.astype(d.dtype)
    if g.shape != d.shape:
        raise RuntimeError(
            f"Function backward returned an invalid gradient: got shape {tuple(g.shape)} for a "
            f"leaf of shape {tuple(d.shape)}")
    cur = t._grad
    if cur is None:
        # keep g itself when nothing else can see it: not a view, not an incoming buffer,
        # not already the .grad of another leaf (cheapest tests first; .flags builds an object)
        if g.base is not None or id(g) in kept or (given is not None and _is_in(g, given)) \
                or not g.flags.writeable:
            g = g.copy()
        kept.add(id(g))
        t._grad = _make(g, t._device)
    else:
        cur._data += g
    if hooks:
        for h in list(hooks):
            if h.__class__ is _PostAccumulate:
                h.fn(t)


class _PostAccumulate:
    """A leaf hook that runs after ``.grad`` was updated: ``fn(tensor)``
    (``Tensor.register_post_accumulate_grad_hook``); grad hooks skip it."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def _is_in(g, given):
    for x in given:
        if x is g:
            return True
    return False


def _run_pre_hooks(n, gl, _make):
    gl = list(gl)
    hooks = list(n._pre_hooks)
    # retain_grad's hooks see the gradient after every other hook changed it
    hooks.sort(key=lambda e: getattr(e[1], "_retains_grad", False))
    for idx, fn in hooks:
        if idx == -1:  # node pre-hook: fn(grad_outputs) -> new grad_outputs or None
            r = fn(tuple(None if g is None else _make(g, _dev_of(n)) for g in gl))
            if r is not None:
                gl = [None if x is None else x._data for x in r]
            continue
        g = gl[idx]
        if g is None:
            continue
        r = fn(_make(g, _dev_of(n)))
        if r is not None:
            gl[idx] = r._data
    return gl


def _run_post_hooks(n, grads, gl, _make):
    dev = _dev_of(n)
    gin = tuple(None if g is None else _make(g, dev) for g in grads)
    gout = tuple(None if g is None else _make(g, dev) for g in gl)
    for fn in list(n._hooks):
        fn(gin, gout)


def _dev_of(n: Node):
    """The device of a node's gradients: recorded when the op ran (None for a node built
    without one, e.g. an op with no tensor input: then the namespace tells cpu, and a cuda
    node takes CuPy's current device)."""
    d = getattr(n, "device", None)
    if d is not None:
        return d
    from .._backends.numpy_backend import NumpyBackend
    from .._device import CPU, device

    if n.xp is NumpyBackend.xp:
        return CPU
    return device("cuda", int(n.xp.cuda.Device().id))
