"""In-place ops (``add_``, ``zero_``, ``uniform_``, ...) with PyTorch's autograd rules.

* on a leaf that requires grad they raise, unless grad mode is off (``no_grad``);
* through ``.data`` they bypass autograd;
* on a non-leaf they are recorded: the op runs out of place on a snapshot of the old value and
  the result is written back into the same memory; the tensor's version counter is bumped,
  so backward raises instead of using a value that was overwritten;
* on a view (``y[0].add_(1)``, ``y.view(-1).mul_(2)``) the base's history is rewritten as
  torch does: the base gets a ``CopySlices`` node and the view an ``AsStridedBackward0`` one.
"""

from __future__ import annotations

import inspect
import warnings

from .. import _dtype as D
from .._device import backend
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from ._op import Op, sum_to_shape
from ._registry import register

_object_setattr = object.__setattr__

_LEAF_ERR = ("a leaf Variable that requires grad is being used in an in-place operation.")
_VIEW_LEAF_ERR = ("a view of a leaf Variable that requires grad is being used in an in-place "
                  "operation.")
_EXPAND_ERR = ("unsupported operation: more than one element of the written-to tensor refers to "
               "a single memory location. Please clone() the tensor before performing the "
               "operation.")


def _any_requires_grad(args) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def _edge(t):
    if not t.requires_grad:
        return None
    g = t.grad_fn
    return t if g is None else (g, t._out)


def _write_back(t, res_arr, name):
    dst = t._data
    if res_arr.shape != dst.shape:
        raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast "
                           f"shape {list(res_arr.shape)}")
    if res_arr.dtype != dst.dtype:
        _check_cast(res_arr.dtype, dst.dtype)
    if not dst.flags.writeable:
        raise RuntimeError(_EXPAND_ERR)
    backend(t._device).xp.copyto(dst, res_arr, casting="unsafe")


_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def _check_cast(src, dst):
    """torch refuses an in-place result of a higher category (float into an int tensor)."""
    if _ORDER[src.kind] > _ORDER[dst.kind]:
        raise RuntimeError(f"result type {D.scalar_name(src)} can't be cast to the desired output type "
                           f"{D.scalar_name(dst)}")


def write_out(out, result, name):
    """torch's ``out=``: ``result``'s values written into ``out`` (resized when its shape
    differs, with torch's warning if it held elements), and ``out`` returned."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if STATE.enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    if out._device != result._device:
        raise RuntimeError(f"Expected out tensor to have device {result._device}, but got "
                           f"{out._device} instead")
    res = result._data
    if res.dtype != out._data.dtype:
        _check_cast(res.dtype, out._data.dtype)
    xp = backend(out._device).xp
    if out._data.shape != res.shape:
        if out._data.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(res.shape)}. This behavior is deprecated, and in a "
                          f"future PyTorch release outputs will not be resized unless they have "
                          f"zero elements. You can explicitly reuse an out tensor t by resizing "
                          f"it, inplace, to zero elements with t.resize_(0).", UserWarning,
                          stacklevel=3)
        _object_setattr(out, "_data", xp.empty(res.shape, out._data.dtype))
    elif not out._data.flags.writeable:
        raise RuntimeError(_EXPAND_ERR)
    xp.copyto(out._data, res, casting="unsafe")
    out._version_counter[0] += 1
    return out


def run_inplace(t, name, args, compute, fast):
    """The one path of every in-place op.

    ``compute(shadow)`` returns the new value as a Tensor, recorded in the graph, from a
    snapshot ``shadow`` of t's old value; it runs when the change must be recorded (grad mode
    on and t or an argument requires grad). Otherwise ``fast()`` mutates ``t._data`` directly.
    """
    if STATE.enabled and (t.requires_grad or _any_requires_grad(args)):
        if t.requires_grad and t.grad_fn is None:
            raise RuntimeError(_LEAF_ERR)
        if t._base is not None:
            _inplace_on_view(t, name, compute)
        else:
            res = _compute(t, compute)
            _write_back(t, res._data, name)
            _object_setattr(t, "grad_fn", res.grad_fn)
            _object_setattr(t, "_out", res._out)
            t._requires_grad = res._requires_grad
    else:
        if not t._data.flags.writeable:
            raise RuntimeError(_EXPAND_ERR)
        fast()
    t._version_counter[0] += 1
    return t


def _compute(t, compute):
    # the snapshot owns a copy: ops that save their input keep the old value
    shadow = _make(t._data.copy(), t._device, t.requires_grad, t.grad_fn, t._out)
    res = compute(shadow)
    if res._data.dtype != t._data.dtype:
        from .cast import Cast

        _check_cast(res._data.dtype, t._data.dtype)
        res = Cast.apply(res, t._data.dtype)
    return res


class CopySlices(Op):
    """The base of a view after an in-place op on the view: base with the view's region
    replaced by the op's result. Inputs: (old base, new view value)."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - built by _inplace_on_view, never applied
        raise RuntimeError("CopySlices is not applied directly")

    @staticmethod
    def backward(ctx, g):
        pos = ctx.pos
        gb = None
        if ctx.needs_input_grad[0]:
            gb = g.copy()
            gb.reshape(-1)[pos.reshape(-1)] = 0
        gv = g.reshape(-1)[pos] if ctx.needs_input_grad[1] else None
        return gb, gv


class AsStrided(Op):
    """A view of a base whose history was rewritten: picks the view's elements."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - built by _inplace_on_view, never applied
        raise RuntimeError("AsStrided is not applied directly")

    @staticmethod
    def backward(ctx, g):
        gb = ctx.xp.zeros(ctx.size, g.dtype)
        gb[ctx.pos.reshape(-1)] = g.reshape(-1)
        return (gb.reshape(ctx.shape),)


def _inplace_on_view(t, name, compute):
    base = t._base
    fn = t._view_fn
    if base.requires_grad and base.grad_fn is None:
        raise RuntimeError(_VIEW_LEAF_ERR)
    if fn is None:
        raise RuntimeError(_EXPAND_ERR)
    res = _compute(t, compute)
    _write_back(t, res._data, name)
    xp = backend(t._device).xp
    # which elements of the base the view covers, as flat positions (robust to any view chain)
    pos = fn(xp.arange(base._data.size).reshape(base._data.shape))
    node = CopySlices._node(CopySlices, xp)
    node.next = [_edge(base), _edge(res)]
    node.needs_input_grad = [base.requires_grad, res.requires_grad]
    node.pos = pos
    _object_setattr(base, "grad_fn", node)
    _object_setattr(base, "_out", 0)
    base._requires_grad = True
    view = AsStrided._node(AsStrided, xp)
    view.next = [(node, 0)]
    view.needs_input_grad = [True]
    view.pos = pos
    view.size = base._data.size
    view.shape = base._data.shape
    _object_setattr(t, "grad_fn", view)
    _object_setattr(t, "_out", 0)
    t._requires_grad = True


def inplace_of(fn, name):
    """Make ``name_`` from the functional op ``fn`` (one definition of the math)."""

    def method(self, *args, **kwargs):
        def fast():
            prev = STATE.enabled
            STATE.enabled = False
            try:
                res = fn(self, *args, **kwargs)
            finally:
                STATE.enabled = prev
            _write_back(self, res._data, name)

        return run_inplace(self, name, args + tuple(kwargs.values()),
                           lambda s: fn(s, *args, **kwargs), fast)

    method.__name__ = name
    # the method passes its arguments on to fn unchanged: it takes exactly fn's parameters
    method.__signature__ = inspect.signature(fn)
    return method


# ---------------------------------------------------------------------- arithmetic fast paths
def arith_inplace(fn, ufunc, name):
    """``add_`` / ``sub_`` / ``mul_`` / ``div_``: without anything to record, NumPy's ``ufunc``
    writes into the tensor's memory (``out=``); otherwise ``inplace_of(fn)``."""
    slow = inplace_of(fn, name)
    sig = inspect.signature(fn)
    has_alpha = "alpha" in sig.parameters

    def method(self, other, *, alpha=1, rounding_mode=None):
        if rounding_mode is not None:
            return slow(self, other, rounding_mode=rounding_mode)
        if alpha != 1 and not has_alpha:
            raise TypeError(f"{name}() got an unexpected keyword argument 'alpha'")
        if STATE.enabled and (self.requires_grad or
                              (isinstance(other, Tensor) and other.requires_grad)):
            return slow(self, other, alpha=alpha) if alpha != 1 else slow(self, other)
        if isinstance(other, Tensor):
            if other._device is not self._device and other._device != self._device:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found "
                                   f"at least two devices, {self._device} and {other._device}!")
            o = other._data
        elif other.__class__ in (int, float, bool):
            o = other
        else:
            return slow(self, other, alpha=alpha) if alpha != 1 else slow(self, other)
        if alpha != 1:
            o = o * alpha
        d = self._data
        k = d.dtype.kind
        if k != "f":
            ok = o.dtype.kind if hasattr(o, "dtype") else ("f" if isinstance(o, float) else "i")
            if ok == "f" or ufunc == "true_divide":
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{D.scalar_name(d.dtype)}")
            if k == "b" and ok != "b":
                raise RuntimeError("result type Long can't be cast to the desired output type "
                                   "Bool")
        if getattr(o, "shape", ()) != d.shape:
            _check_broadcast_into(getattr(o, "shape", ()), d.shape)
        if not d.flags.writeable:
            raise RuntimeError(_EXPAND_ERR)
        getattr(backend(self._device).xp, ufunc)(d, o, out=d, casting="unsafe")
        self._version_counter[0] += 1
        return self

    method.__name__ = name
    method.__signature__ = sig  # add_/sub_ take alpha=, div_ rounding_mode=, mul_ neither
    return method


def _check_broadcast_into(src, dst):
    n = len(dst)
    if len(src) > n:
        raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape "
                           f"{list(src)}")
    pad = (1,) * (n - len(src)) + tuple(src)
    for a, b in zip(pad, dst):
        if a != b and a != 1:
            shape = [max(x, y) if 1 in (x, y) else x for x, y in zip(pad, dst)]
            raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast "
                               f"shape {shape}")


def _check_copy_shape(src, dst):
    n = max(len(src), len(dst))
    ps = (1,) * (n - len(src)) + tuple(src)
    pd = (1,) * (n - len(dst)) + tuple(dst)
    for i, (a, b) in enumerate(zip(pd, ps)):
        if a != b and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {i}")
    if len(src) > len(dst):
        raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape "
                           f"{list(src)}")


# ---------------------------------------------------------------------- fills and copies
class Fill(Op):
    """Overwrite with a value (a scalar, or an array already drawn): zero gradient to x."""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, x, value):
        out = ctx.xp.empty_like(x)
        out[...] = value
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None


class Zero(Fill):
    node_name = "ZeroBackward0"


class FillTensor(Op):
    """fill_ with a 0-d tensor value: the gradient of the value is the sum."""

    node_name = "FillBackward3"

    @staticmethod
    def forward(ctx, x, value):
        out = ctx.xp.empty_like(x)
        out[...] = value
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (ctx.xp.zeros_like(g) if n[0] else None), (g.sum() if n[1] else None)


class NormalFill(Fill):
    node_name = "NormalBackward0"


class UniformFill(Fill):
    node_name = "UniformBackward0"


class BernoulliFill(Fill):
    node_name = "BernoulliBackward0"


class RandomFill(Fill):
    node_name = "RandomBackward0"


class ExponentialFill(Fill):
    node_name = "ExponentialBackward0"


class Copy(Op):
    """copy_(src): x's values replaced by src (broadcast, cast); the gradient goes to src."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_shape = src.shape
        ctx.src_dtype = src.dtype
        out = ctx.xp.empty_like(x)
        out[...] = src
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        gx = ctx.xp.zeros_like(g) if n[0] else None
        gs = sum_to_shape(g, ctx.src_shape).astype(ctx.src_dtype, copy=False) if n[1] else None
        return gx, gs


def _fill_with(self, name, op, value):
    """Overwrite self with value (scalar or array of self's shape), recorded as ``op``."""

    def fast():
        self._data[...] = value

    return run_inplace(self, name, (), lambda s: op.apply(s, value), fast)


def zero_(input):
    return _fill_with(input, "zero_", Zero, 0)


def fill_(input, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if STATE.enabled and value.requires_grad:
            v = value.to(input.dtype) if value._data.dtype != input._data.dtype else value
            return run_inplace(input, "fill_", (v,), lambda s: FillTensor.apply(s, v), None)
        value = value.item()
    return _fill_with(input, "fill_", Fill, value)


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _check_copy_shape(src._data.shape, self._data.shape)
    if src._device != self._device:
        from .cast import ToDevice

        src = ToDevice.apply(src, self._device)
    data = src._data

    def fast():
        backend(self._device).xp.copyto(self._data, data, casting="unsafe")

    return run_inplace(self, "copy_", (src,), lambda s: Copy.apply(s, src), fast)


def fill_diagonal_(self, fill_value, wrap=False):
    xp = backend(self._device).xp
    a = self._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    out = a.copy()
    if a.ndim == 2:
        xp.fill_diagonal(out, fill_value, wrap=wrap)
    else:
        idx = xp.arange(a.shape[0])
        out[(idx,) * a.ndim] = fill_value
    return _fill_with(self, "fill_diagonal_", Fill, out)


# ---------------------------------------------------------------------- random fills
def _gen(self, generator):
    from ..random import generator_for

    return generator_for(self._device, generator)


def _random_fill(self, name, op, draw):
    # refuse before drawing, so a refused call leaves the generator untouched
    if STATE.enabled and self.requires_grad:
        if self.grad_fn is None:
            raise RuntimeError(_LEAF_ERR)
        b = self._base
        if b is not None and b.requires_grad and b.grad_fn is None:
            raise RuntimeError(_VIEW_LEAF_ERR)
    a = self._data
    return _fill_with(self, name, op, draw(a.shape, a.dtype))


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
    return _random_fill(self, "uniform_", UniformFill, lambda s, d: g._uniform(s, lo, hi, d))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    g = _gen(self, generator)
    return _random_fill(self, "normal_", NormalFill, lambda s, d: g._normal(s, mean, std, d))


def bernoulli_(self, p=0.5, *, generator=None):
    g = _gen(self, generator)
    if isinstance(p, Tensor):
        pa = p._data
        return _random_fill(self, "bernoulli_", BernoulliFill, lambda s, d: g._bernoulli(
            backend(self._device).xp.broadcast_to(pa, s), d))
    return _random_fill(self, "bernoulli_", BernoulliFill,
                        lambda s, d: g._bernoulli_shape(s, p, d))


def random_(self, *args, generator=None, **kw):
    lo = kw.pop("from", 0)
    hi = kw.pop("to", None)
    if len(args) == 1:
        hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    if hi is None:
        d = self._data.dtype
        if d.kind == "f":
            hi = 2 ** 24 if d.itemsize == 4 else 2 ** 11 if d.itemsize == 2 else 2 ** 53
        elif d.kind == "b":
            hi = 2
        else:
            hi = D.iinfo_max(D._FROM_NP[d]) + 1
    g = _gen(self, generator)
    return _random_fill(self, "random_", RandomFill, lambda s, d: g._randint(lo, hi, s, d))


def exponential_(self, lambd=1.0, *, generator=None):
    g = _gen(self, generator)
    return _random_fill(self, "exponential_", ExponentialFill,
                        lambda s, d: g._exponential(s, lambd, d))


def requires_grad_(self, requires_grad=True):
    return Tensor.requires_grad_(self, requires_grad)


for _fn in (zero_, fill_):  # torch.zero_(x), torch.fill_(x, v) too
    register(_fn)
for _fn in (copy_, fill_diagonal_, uniform_, normal_, bernoulli_, random_, exponential_):
    register(_fn, function=False)
