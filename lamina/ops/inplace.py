"""In-place ops (``add_``, ``zero_``, ``uniform_``, ...) with PyTorch's autograd rules.

* on a leaf that requires grad they raise, unless grad mode is off (``no_grad``);
* through ``.data`` they bypass autograd;
* on a non-leaf they are recorded: the op runs out of place on a snapshot of the old value and
  the result is written back into the same memory, and the tensor's version counter is bumped,
  so backward raises instead of using a value that was overwritten.
"""

from __future__ import annotations

from .. import _dtype as D
from .._device import backend
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node

_osa = object.__setattr__

_LEAF_ERR = ("a leaf Variable that requires grad is being used in an in-place operation. "
             "(Wrap it in `with torch.no_grad():` or modify `.data` to change it without "
             "autograd.)")
_VIEW_ERR = ("lamina does not record in-place operations on a view of a tensor that requires "
             "grad ({op} on a view of shape {shape}); write to the base tensor instead, e.g. "
             "`x[idx] = value` or `x = x.index_put(...)` out of place")


def _needs_graph(t, args):
    if not STATE.enabled:
        return False
    if t.requires_grad:
        return True
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def _check_target(t, name):
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(_LEAF_ERR)
    if t._base is not None:
        raise RuntimeError(_VIEW_ERR.format(op=name, shape=tuple(t._data.shape)))


def _write_back(t, res_arr, name):
    dst = t._data
    if res_arr.shape != dst.shape:
        raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast "
                           f"shape {list(res_arr.shape)} (in {name})")
    if res_arr.dtype != dst.dtype:
        rk, dk = res_arr.dtype.kind, dst.dtype.kind
        order = {"b": 0, "u": 1, "i": 1, "f": 2}
        if order[rk] > order[dk]:
            raise RuntimeError(
                f"result type {D._FROM_NP[res_arr.dtype].name.capitalize()} can't be cast to the "
                f"desired output type {D._FROM_NP[dst.dtype].name.capitalize()} (in {name})")
    backend(t._device).xp.copyto(dst, res_arr, casting="unsafe")


def apply_inplace(t, cls, *args, fast=None, name=None):
    """Run Op ``cls`` on (t, *args) and store the result in t's memory."""
    name = name or cls.__name__.lower() + "_"
    if _needs_graph(t, args):
        _check_target(t, name)
        shadow = _make(t._data.copy(), t._device, t.requires_grad, t.grad_fn, t._out)
        res = cls.apply(shadow, *args)
        _write_back(t, res._data, name)
        _osa(t, "grad_fn", res.grad_fn)
        _osa(t, "requires_grad", True)
        t._out = res._out
    else:
        arrs = [a._data if isinstance(a, Tensor) else a for a in args]
        if fast is not None:
            fast(t._data, *arrs)
        else:
            ctx = Node(cls, backend(t._device).xp)
            _write_back(t, cls.forward(ctx, t._data, *arrs), name)
    t._vc[0] += 1
    return t


def inplace_of(fn, name):
    """Make ``name_`` from the functional op ``fn`` (one definition of the math)."""

    def method(self, *args, **kwargs):
        if _needs_graph(self, args):
            _check_target(self, name)
            shadow = _make(self._data.copy(), self._device, self.requires_grad, self.grad_fn,
                           self._out)
            res = fn(shadow, *args, **kwargs)
            _write_back(self, res._data, name)
            _osa(self, "grad_fn", res.grad_fn)
            _osa(self, "requires_grad", True)
            self._out = res._out
        else:
            prev = STATE.enabled
            STATE.enabled = False
            try:
                res = fn(self, *args, **kwargs)
            finally:
                STATE.enabled = prev
            _write_back(self, res._data, name)
        self._vc[0] += 1
        return self

    method.__name__ = name
    return method


def _raw_inplace(self, name, do):
    """For ops with no gradient (fills, random draws): check the rules, then mutate."""
    if STATE.enabled and self.requires_grad:
        _check_target(self, name)
        # a non-leaf overwritten with constants: its history is cut
        _osa(self, "grad_fn", None)
    do(self._data)
    self._vc[0] += 1
    return self


# ---------------------------------------------------------------------- arithmetic fast paths
def _arith(fn, ufunc, name):
    slow = inplace_of(fn, name)

    def method(self, other, *, alpha=1):
        if STATE.enabled and (self.requires_grad or
                              (isinstance(other, Tensor) and other.requires_grad)):
            return slow(self, other, alpha=alpha) if alpha != 1 else slow(self, other)
        o = other._data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other._device is not self._device and \
                other._device != self._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {self._device} and {other._device}!")
        if alpha != 1:
            o = o * alpha
        d = self._data
        od = getattr(o, "dtype", None)
        if (od is not None and od.kind == "f" and d.dtype.kind != "f") or \
                (isinstance(o, float) and d.dtype.kind != "f") or \
                (ufunc == "true_divide" and d.dtype.kind != "f"):
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{D._FROM_NP[d.dtype].name.capitalize()}")
        if getattr(o, "shape", ()) != d.shape:
            import numpy as _np

            try:
                bshape = _np.broadcast_shapes(getattr(o, "shape", ()), d.shape)
            except ValueError:
                bshape = None
            if bshape != d.shape:
                raise RuntimeError(f"output with shape {list(d.shape)} doesn't match the "
                                   f"broadcast shape {list(bshape or getattr(o, 'shape', ()))}")
        getattr(backend(self._device).xp, ufunc)(d, o, out=d, casting="unsafe")
        self._vc[0] += 1
        return self

    method.__name__ = name
    return method


def _build():
    from . import elementwise as E
    from . import index as I  # noqa: E741

    m = {
        "add_": _arith(E.add, "add", "add_"),
        "sub_": _arith(E.sub, "subtract", "sub_"),
        "mul_": _arith(E.mul, "multiply", "mul_"),
        "div_": _arith(E.div, "true_divide", "div_"),
    }
    m["subtract_"] = m["sub_"]
    m["multiply_"] = m["mul_"]
    m["divide_"] = m["div_"]
    m["true_divide_"] = m["div_"]
    for n in ("__iadd__", "__isub__", "__imul__", "__itruediv__"):
        m[n] = m[{"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_",
                  "__itruediv__": "div_"}[n]]
    for n in ("pow", "neg", "abs", "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt",
              "rsqrt", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sign",
              "floor", "ceil", "trunc", "round", "frac", "square", "clamp", "clamp_min",
              "clamp_max", "lerp", "addcmul", "addcdiv", "remainder", "fmod", "floor_divide",
              "maximum", "minimum", "nan_to_num", "logical_not", "logical_and", "logical_or"):
        m[n + "_"] = inplace_of(getattr(E, n), n + "_")
    m["clip_"] = m["clamp_"]
    m["negative_"] = m["neg_"]
    m["absolute_"] = m["abs_"]
    m["__ipow__"] = m["pow_"]
    m["__ifloordiv__"] = m["floor_divide_"]
    m["__imod__"] = m["remainder_"]
    m["__iand__"] = inplace_of(E.bitwise_and, "__iand__")
    m["__ior__"] = inplace_of(E.bitwise_or, "__ior__")
    m["__ixor__"] = inplace_of(E.bitwise_xor, "__ixor__")
    for n in ("masked_fill", "scatter", "scatter_add", "index_add", "tril", "triu"):
        m[n + "_"] = inplace_of(getattr(I, n), n + "_")
    return m


# ---------------------------------------------------------------------- fills and copies
def zero_(self):
    return _raw_inplace(self, "zero_", lambda a: a.fill(0))


def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if STATE.enabled and value.requires_grad:
            from .elementwise import add

            return inplace_of(lambda s, v: add(s * 0, v.to(s.dtype)), "fill_")(self, value)
        value = value.item()
    return _raw_inplace(self, "fill_", lambda a: a.fill(value))


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    if STATE.enabled and src.requires_grad:
        from .shape import expand

        def f(s, x):
            y = x.to(s._device).to(s.dtype)
            return expand(y, tuple(s.shape)) * 1 if tuple(y.shape) != tuple(s.shape) else y * 1

        return inplace_of(f, "copy_")(self, src)
    data = src._data
    if src._device != self._device:
        data = backend(self._device).from_numpy(backend(src._device).to_numpy(data))
    xp = backend(self._device).xp

    def do(a):
        try:
            xp.copyto(a, xp.broadcast_to(data, a.shape), casting="unsafe")
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({a.shape[-1] if a.ndim else 1}) must match "
                               f"the size of tensor b ({data.shape[-1] if data.ndim else 1}) at "
                               f"non-singleton dimension; copy_ of shape {tuple(data.shape)} "
                               f"into {tuple(a.shape)}") from None

    return _raw_inplace(self, "copy_", do)


def fill_diagonal_(self, fill_value, wrap=False):
    xp = backend(self._device).xp

    def do(a):
        if a.ndim < 2:
            raise RuntimeError("dimensions must larger than 1")
        if a.ndim == 2:
            xp.fill_diagonal(a, fill_value, wrap=wrap)
        else:
            n = min(a.shape)
            idx = xp.arange(n)
            a[(idx,) * a.ndim] = fill_value

    return _raw_inplace(self, "fill_diagonal_", do)


# ---------------------------------------------------------------------- random fills
def _gen(self, generator):
    from .._rng import generator_for

    return generator_for(self._device, generator)


def _random_fill(self, name, draw):
    def do(a):
        a[...] = draw(a.shape, a.dtype)

    return _raw_inplace(self, name, do)


def uniform_(self, *args, generator=None, **kw):
    """uniform_(from=0, to=1): torch spells the bounds ``from`` and ``to``."""
    lo = kw.pop("from", kw.pop("a", args[0] if len(args) > 0 else 0.0))
    hi = kw.pop("to", kw.pop("b", args[1] if len(args) > 1 else 1.0))
    if kw:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kw)}")
    if lo > hi:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={lo} > to={hi}")
    g = _gen(self, generator)
    return _random_fill(self, "uniform_", lambda s, d: g._uniform(s, lo, hi, d))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    g = _gen(self, generator)
    return _random_fill(self, "normal_", lambda s, d: g._normal(s, mean, std, d))


def bernoulli_(self, p=0.5, *, generator=None):
    g = _gen(self, generator)
    if isinstance(p, Tensor):
        pa = p._data
        return _random_fill(self, "bernoulli_", lambda s, d: g._bernoulli(
            backend(self._device).xp.broadcast_to(pa, s), d))
    return _random_fill(self, "bernoulli_", lambda s, d: g._bernoulli_shape(s, p, d))


def random_(self, *args, generator=None, **kw):
    lo = kw.pop("from", 0)
    hi = kw.pop("to", None)
    if len(args) == 1:
        hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    if hi is None:
        import numpy as _np

        d = self._data.dtype
        hi = 2 ** 24 if d == _np.float32 else 2 ** 53 if d.kind == "f" else \
            int(_np.iinfo(d).max) + 1
    g = _gen(self, generator)
    return _random_fill(self, "random_", lambda s, d: g._randint(lo, hi, s, d))


def exponential_(self, lambd=1.0, *, generator=None):
    g = _gen(self, generator)
    return _random_fill(self, "exponential_", lambda s, d: g._exponential(s, lambd, d))


def requires_grad_(self, requires_grad=True):
    return Tensor.requires_grad_(self, requires_grad)


TENSOR_METHODS = {
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "fill_diagonal_": fill_diagonal_,
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_, "random_": random_,
    "exponential_": exponential_,
}
TENSOR_METHODS.update(_build())
FUNCTIONS: list = []
_ = _make
