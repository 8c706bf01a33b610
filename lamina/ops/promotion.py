"""PyTorch's type promotion for binary ops: operands (tensors, 0-d tensors, Python scalars)
cast to one result dtype before the op runs."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _make
from .cast import Cast, cast

_FROM_NP = D._FROM_NP
_PY_SCALARS = (int, float, bool)


def _shape(x):
    """An operand's shape (a Python scalar's is ())."""
    return getattr(x, "shape", ())


def _result_dtype(a: Tensor, b: Tensor):
    da, db = _FROM_NP[a._data.dtype], _FROM_NP[b._data.dtype]
    if da is db:
        return da
    za, zb = a._data.ndim == 0, b._data.ndim == 0
    if za == zb:
        return D.promote_types(da, db)
    dim, zero = (da, db) if zb else (db, da)
    if zero._cat > dim._cat:
        return zero if zero._cat == 2 and dim._cat < 2 and zero.is_floating_point else \
            D.promote_types(dim, zero)
    return dim


def _to_tensor_operand(x, like: Tensor):
    """Turn a non-Tensor operand (NumPy array / scalar) into a Tensor on like's device."""
    from .._creation import tensor

    return tensor(x, device=like._device)


_INT_RANGE = {n: (lo, hi, hi - lo + 1) for n, lo, hi in (
    ("uint8", 0, 255), ("int8", -128, 127), ("int16", -2 ** 15, 2 ** 15 - 1),
    ("int32", -2 ** 31, 2 ** 31 - 1), ("int64", -2 ** 63, 2 ** 63 - 1))}


def _prep(a, b, true_div=False):
    """Apply PyTorch's promotion to a binary op's operands; returns (a, b) ready for apply."""
    if a.__class__ is not Tensor and not isinstance(a, Tensor):
        if a.__class__ in _PY_SCALARS:
            b2, a2 = _prep(b, a, true_div)
            return a2, b2
        a = _to_tensor_operand(a, b)
    if isinstance(b, Tensor):
        da = a._data.dtype
        if da is not b._data.dtype:
            rt = _result_dtype(a, b)
            if true_div and not rt.is_floating_point:
                rt = D.get_default_dtype()
            a = cast(a, rt)
            b = cast(b, rt)
        elif true_div and da.kind != "f":
            rt = D.get_default_dtype()
            a = cast(a, rt)
            b = cast(b, rt)
        return a, b
    c = b.__class__
    if c is float:
        if a._data.dtype.kind != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
    elif c is int:
        k = a._data.dtype.kind
        if true_div and k != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
        elif k == "b":
            a = Cast.apply(a, D.int64.np)
        elif k != "f":
            r = _INT_RANGE[a._data.dtype.name]
            if not r[0] <= b <= r[1]:  # torch wraps an out-of-range int like C does
                b = (b - r[0]) % r[2] + r[0]
    elif c is bool:
        if true_div and a._data.dtype.kind != "f":
            a = Cast.apply(a, D.get_default_dtype().np)
    else:
        return _prep(a, _to_tensor_operand(b, a), true_div)
    return a, b


def _binary_dtype(a, b):
    a2, b2 = _prep(a, b)
    return a2.dtype if isinstance(a2, Tensor) else b2.dtype


def _is_bool(x) -> bool:
    return x.__class__ is bool or (isinstance(x, Tensor) and x._data.dtype.kind == "b")


def _copy(t):
    """A fresh copy of a tensor that cannot require grad (integer / bool dtypes)."""
    return _make(t._data.copy(), t._device)
