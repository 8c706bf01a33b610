"""Property tests (hypothesis) against torch: type promotion, broadcasting, shapes, indexing."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle_helpers import assert_close, npy

import lamina

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "truediv": lambda a, b: a / b,
    "rtruediv": lambda a, b: b / a,
    "radd": lambda a, b: b + a,
    "rsub": lambda a, b: b - a,
    "pow": lambda a, b: a ** b,
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
}


def _tensor(m, values, dtype, zero_dim):
    arr = np.array(values[:1] if zero_dim else values).astype(dtype)
    if zero_dim:
        arr = arr.reshape(())
    return m.from_numpy(arr.copy()) if m is lamina else torch.from_numpy(arr.copy())


def _run(fn, *args):
    try:
        r = fn(*args)
    except Exception as e:  # noqa: BLE001 - the error kind is part of the outcome
        return ("raised", type(e).__name__)
    return ("ok", str(r.dtype).split(".")[-1], tuple(r.shape))


@SETTINGS
@given(da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), za=st.booleans(),
       zb=st.booleans(), op=st.sampled_from(sorted(BINARY)))
def test_tensor_tensor_promotion(da, db, za, zb, op):
    vals = [1, 2, 3]
    fn = BINARY[op]
    got = _run(fn, _tensor(lamina, vals, da, za), _tensor(lamina, vals, db, zb))
    want = _run(fn, _tensor(torch, vals, da, za), _tensor(torch, vals, db, zb))
    assert got == want


@SETTINGS
@given(da=st.sampled_from(DTYPES), za=st.booleans(),
       scalar=st.sampled_from([2, 1.5, True, -1, 0.25]),
       op=st.sampled_from(sorted(BINARY)))
def test_tensor_scalar_promotion(da, za, scalar, op):
    if op in ("pow",) and isinstance(scalar, int) and scalar < 0:
        scalar = 2
    vals = [1, 2, 3]
    fn = BINARY[op]
    got = _run(fn, _tensor(lamina, vals, da, za), scalar)
    want = _run(fn, _tensor(torch, vals, da, za), scalar)
    assert got == want


@SETTINGS
@given(da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES), za=st.booleans(),
       zb=st.booleans())
def test_where_and_maximum_promotion(da, db, za, zb):
    vals = [1, 0, 3]
    for fn in (lambda m, a, b: m.where(m.ones(3, dtype=m.bool), a, b),
               lambda m, a, b: m.maximum(a, b)):
        got = _run(lambda a, b, f=fn: f(lamina, a, b), _tensor(lamina, vals, da, za),
                   _tensor(lamina, vals, db, zb))
        want = _run(lambda a, b, f=fn: f(torch, a, b), _tensor(torch, vals, da, za),
                    _tensor(torch, vals, db, zb))
        assert got == want


@SETTINGS
@given(da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES))
def test_int_division_and_comparisons(da, db):
    a = np.array([4, 6, 1]).astype(da)
    b = np.array([2, 4, 1]).astype(db)
    la, lb = lamina.from_numpy(a.copy()), lamina.from_numpy(b.copy())
    ta, tb = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    assert _run(lambda x, y: x / y, la, lb) == _run(lambda x, y: x / y, ta, tb)
    assert (la < lb).dtype is lamina.bool
    if _run(lambda x, y: x / y, la, lb)[0] == "ok":
        assert_close(la / lb, ta / tb, rtol=1e-3, atol=1e-3)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                max_side=3),
       op=st.sampled_from(["add", "mul", "sub", "truediv", "maximum", "pow"]))
def test_broadcasting_values_and_grad_shapes(shapes, op):
    (sa, sb), _ = shapes.input_shapes, shapes.result_shape
    rng = np.random.RandomState(0)
    a = rng.uniform(0.5, 2, sa).astype(np.float32)
    b = rng.uniform(0.5, 2, sb).astype(np.float32)
    fns = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "sub": lambda x, y: x - y,
           "truediv": lambda x, y: x / y, "pow": lambda x, y: x ** y,
           "maximum": lambda x, y: (lamina if isinstance(x, lamina.Tensor) else torch)
           .maximum(x, y)}
    la = lamina.tensor(a, requires_grad=True)
    lb = lamina.tensor(b, requires_grad=True)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    lo, to = fns[op](la, lb), fns[op](ta, tb)
    assert tuple(lo.shape) == tuple(to.shape)
    assert_close(lo, to)
    lo.sum().backward()
    to.sum().backward()
    assert la.grad.shape == la.shape and lb.grad.shape == lb.shape
    assert_close(la.grad, ta.grad, rtol=1e-4, atol=1e-4)
    assert_close(lb.grad, tb.grad, rtol=1e-4, atol=1e-4)


@st.composite
def _shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    dims = draw(st.lists(st.integers(-nd, nd - 1), min_size=0, max_size=nd,
                         unique_by=lambda d: d % nd))
    return shape, dims


@SETTINGS
@given(sd=_shape_and_dims(), keepdim=st.booleans(),
       red=st.sampled_from(["sum", "mean", "amax", "amin", "std", "logsumexp", "norm"]))
def test_reductions_over_dims(sd, keepdim, red):
    shape, dims = sd
    if red == "logsumexp" and not dims:
        dims = [0]
    if red == "norm":  # torch.norm takes at most two dims (a matrix norm)
        dims = dims[:2]
    a = np.random.RandomState(1).standard_normal(shape).astype(np.float32)
    out = []
    for m in (lamina, torch):
        x = m.tensor(a, requires_grad=True)
        if red == "norm":
            r = x.norm(dim=tuple(dims) if dims else None, keepdim=keepdim)
        elif red == "std":
            r = x.std(dim=tuple(dims) if dims else None, keepdim=keepdim, correction=0)
        else:
            r = getattr(x, red)(tuple(dims), keepdim=keepdim) if dims else getattr(x, red)()
        (r * r).sum().backward()
        out.append((r, x.grad))
    (lr, lg), (tr, tg) = out
    assert tuple(lr.shape) == tuple(tr.shape)
    assert_close(lr, tr, rtol=1e-4, atol=1e-5)
    assert_close(lg, tg, rtol=1e-3, atol=1e-4)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3),
       data=st.data())
def test_shape_ops_match_torch(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    nd = len(shape)
    lx, tx = lamina.tensor(a), torch.tensor(a)
    assert_close(lx.reshape(-1), tx.reshape(-1))
    assert_close(lx.squeeze(), tx.squeeze())
    d = data.draw(st.integers(-nd - 1, nd))
    assert_close(lx.unsqueeze(d), tx.unsqueeze(d))
    if nd:
        perm = data.draw(st.permutations(range(nd)))
        assert_close(lx.permute(*perm), tx.permute(*perm))
        d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
        assert_close(lx.transpose(d0, d1), tx.transpose(d0, d1))
        assert_close(lx.flatten(d0 if d0 % nd <= d1 % nd else d1, d1 if d0 % nd <= d1 % nd
                                else d0),
                     tx.flatten(d0 if d0 % nd <= d1 % nd else d1, d1 if d0 % nd <= d1 % nd
                                else d0))
        assert_close(lx.flip(d0), tx.flip(d0))
        assert_close(lx.cumsum(d1), tx.cumsum(d1))


@st.composite
def _basic_index(draw, shape):
    idx = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none", "ellipsis"]))
        if kind == "ellipsis" and Ellipsis not in idx:
            idx.append(Ellipsis)  # stands for exactly this one dim
            continue
        if kind == "int":
            idx.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            idx.append(slice(start, stop, step))
        elif kind == "full":
            idx.append(slice(None))
        elif kind == "none":
            idx.append(None)
            idx.append(slice(None))
        else:
            idx.append(slice(None))
    return tuple(idx)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       data=st.data())
def test_basic_indexing_and_its_gradient(shape, data):
    idx = data.draw(_basic_index(shape))
    a = np.random.RandomState(2).standard_normal(shape).astype(np.float32)
    lx, tx = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lo, to = lx[idx], tx[idx]
    assert_close(lo, to)
    if to.numel():
        (lo * 2).sum().backward()
        (to * 2).sum().backward()
        assert_close(lx.grad, tx.grad)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       data=st.data())
def test_advanced_indexing_and_its_gradient(shape, data):
    n0 = shape[0]
    rows = data.draw(st.lists(st.integers(-n0, n0 - 1), min_size=1, max_size=5))
    a = np.random.RandomState(3).standard_normal(shape).astype(np.float32)
    mask = a > 0
    for m_idx in ([rows], [slice(None), ...] if len(shape) == 1 else
                  [slice(None), [0] * len(rows)], None):
        lx, tx = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        if m_idx is None:
            lo, to = lx[lamina.tensor(mask)], tx[torch.tensor(mask)]
        else:
            li = tuple(lamina.tensor(v) if isinstance(v, list) else v for v in m_idx)
            ti = tuple(torch.tensor(v) if isinstance(v, list) else v for v in m_idx)
            lo, to = lx[li], tx[ti]
        assert_close(lo, to)
        w = np.random.RandomState(4).standard_normal(tuple(to.shape)).astype(np.float32)
        (lo * lamina.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        assert_close(lx.grad, tx.grad, atol=1e-5, rtol=1e-5)


@SETTINGS
@given(a=hnp.arrays(np.float32, hnp.array_shapes(max_dims=3, max_side=4),
                    elements=st.floats(-100, 100, width=32)))
def test_roundtrip_through_numpy(a):
    t = lamina.tensor(a)
    assert t.dtype is lamina.float32 and tuple(t.shape) == a.shape
    np.testing.assert_array_equal(npy(t), a)
    np.testing.assert_array_equal(np.array(t.tolist(), dtype=np.float32).reshape(a.shape), a)
