"""The graph: a Node is the ``grad_fn`` of a tensor and the ``ctx`` of its op."""

from __future__ import annotations

_FREED = object()
# node names torch reports with their C++ namespace from name() (repr shows the bare name)
_TORCH_NS = frozenset(("CopySlices", "CopyBackwards", "AccumulateGrad"))


class Node:
    """One recorded op application.

    ``next`` holds, per positional input of the op, the producer of that input's gradient:
    a ``(Node, output_index)`` pair, a leaf Tensor that accumulates, or ``None``.
    Ops store what backward needs with ``save_for_backward`` and plain attributes.
    """

    __slots__ = ("__dict__", "__weakref__", "device", "needs_input_grad", "next", "op", "saved",
                 "xp")

    # rarely set: class-level defaults, an instance stores its own only when it has one
    _versions = None
    _pre_hooks = None
    _hooks = None
    n_out = 1

    def __init__(self, op, xp, device=None):
        self.op = op
        self.xp = xp
        self.device = device
        self.saved = ()
        self.needs_input_grad = None
        self.next = ()

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @property
    def saved_tensors(self):
        s = self.saved
        if s is _FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        return s

    def name(self) -> str:
        n = type(self).__name__
        return "torch::autograd::" + n if n in _TORCH_NS else n

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        out = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif e.__class__ is tuple:
                out.append(e)
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after this node's backward (torch's Node hook)."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _RemovableHook(self._hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) before this node's backward; may return replacement grads."""
        return self._add_pre_hook(-1, fn)

    def _add_pre_hook(self, idx, fn):
        if self._pre_hooks is None:
            self._pre_hooks = []
        entry = (idx, fn)
        self._pre_hooks.append(entry)
        return _RemovableHook(self._pre_hooks, entry)


class AccumulateGrad:
    """What torch shows in ``next_functions`` for a leaf: ``variable`` is the leaf tensor."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class _RemovableHook:
    __slots__ = ("_entry", "_list")

    def __init__(self, lst, entry):
        self._list = lst
        self._entry = entry

    def remove(self):
        try:
            self._list.remove(self._entry)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")
