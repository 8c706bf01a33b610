"""The registration form: one declaration next to each op names every spelling it gets.

::

    @export("sub", "subtract", inplace=True, fast="subtract", dunders=("__sub__",))
    def sub(input, other, *, alpha=1, out=None): ...

makes ``lamina.sub`` / ``lamina.subtract``, ``Tensor.sub`` / ``Tensor.subtract``,
``Tensor.sub_`` / ``Tensor.subtract_`` (with the NumPy ``out=`` fast path for ``subtract``)
and ``Tensor.__sub__``. The flags:

* ``function`` (default True): ``lamina.<name>``;
* ``method`` (default True): ``Tensor.<name>``; a callable instead of True is bound in fn's
  place (``Tensor.where(condition, other)`` takes its arguments in another order);
* ``inplace``: ``Tensor.<name>_`` made from fn by ``ops.inplace.inplace_of`` (True), and also
  ``lamina.<name>_`` (``"torch"``, where torch has the in-place function);
* ``fast``: the ufunc of an arithmetic in-place op's no-grad fast path (``ops.inplace``);
* ``functional``: ``nn.functional.<name>``;
* ``dunders``: operator methods bound to fn itself; ``idunders``: operator methods bound to
  the in-place form (``__iadd__`` is ``add_``).

``install`` (called once by ``lamina/__init__.py``) binds what was declared so far; a module
imported later (``nn.functional``'s ops) is bound at its declaration. Nothing here imports an
op module: declarations only fill these tables.
"""

from __future__ import annotations

# name -> callable, in declaration order (a later declaration of a name wins, as a later
# ``setattr`` would)
FUNCTIONS: dict = {}    # lamina.<name>
METHODS: dict = {}      # Tensor.<name> (fn itself, or the method given)
INPLACE: dict = {}      # "<name>_" -> (fn, torch has lamina.<name>_, fast-path ufunc or None)
IDUNDERS: dict = {}     # "__iadd__" -> "add_" (the in-place method it is)
FUNCTIONAL: dict = {}   # nn.functional.<name>

_installed = None  # (Tensor, lamina's namespace) once install() ran
_made: dict = {}    # id(fn) -> its in-place method (aliases share one object)


def export(*names, function=True, method=True, inplace=False, fast=None, functional=False,
           dunders=(), idunders=()):
    """Decorator form of ``register`` (see the module docstring)."""

    def deco(fn):
        register(fn, *names, function=function, method=method, inplace=inplace, fast=fast,
                 functional=functional, dunders=dunders, idunders=idunders)
        return fn

    return deco


def register(fn, *names, function=True, method=True, inplace=False, fast=None,
             functional=False, dunders=(), idunders=()):
    """Declare the public names of ``fn`` (its ``__name__`` when none are given)."""
    names = names or (fn.__name__,)
    for n in names:
        if function:
            FUNCTIONS[n] = fn
        if method:
            METHODS[n] = fn if method is True else method
        if inplace:
            INPLACE[n + "_"] = (fn, inplace == "torch", fast)
        if functional:
            FUNCTIONAL[n] = fn
    for d in dunders:
        METHODS[d] = fn
    for d in idunders:
        IDUNDERS[d] = names[0] + "_"
    if _installed is not None:
        _bind(names, function, method, inplace, dunders, idunders)
    return fn


def _inplace_method(name):
    fn, _, fast = INPLACE[name]
    m = _made.get(id(fn))
    if m is None:
        from .inplace import arith_inplace, inplace_of

        m = arith_inplace(fn, fast, name) if fast else inplace_of(fn, name)
        _made[id(fn)] = m
    return m


def _bind(names, function, method, inplace, dunders, idunders):
    tensor, ns = _installed
    for n in names:
        if function:
            ns[n] = FUNCTIONS[n]
        if method:
            setattr(tensor, n, METHODS[n])
        if inplace:
            m = _inplace_method(n + "_")
            setattr(tensor, n + "_", m)
            if inplace == "torch":
                ns[n + "_"] = m
    for d in dunders:
        setattr(tensor, d, METHODS[d])
    for d in idunders:
        setattr(tensor, d, _inplace_method(IDUNDERS[d]))


def install(tensor, namespace: dict) -> None:
    """Bind every declared name: methods onto ``tensor``, functions into ``namespace``."""
    global _installed
    for n, m in METHODS.items():
        setattr(tensor, n, m)
    for n, (_, torch_fn, _) in INPLACE.items():
        m = _inplace_method(n)
        setattr(tensor, n, m)
        if torch_fn:
            namespace[n] = m
    for d, n in IDUNDERS.items():
        setattr(tensor, d, _inplace_method(n))
    namespace.update(FUNCTIONS)
    _installed = (tensor, namespace)
