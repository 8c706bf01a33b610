"""lamina.ops._op: the Op contract (apply, graph nodes, saved-array version checks, views).

Every real op goes through it and is tested through the catalogue (tests/ops/op_db.py,
tests/ops/test_op_db.py); this file checks the contract on a small Op defined here.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina
import lamina as L
from lamina.ops._op import Op, sum_to_shape


class _Cube(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.saved = (a,)
        return a * a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return 3 * a * a * g


def test_apply_builds_a_node_named_after_the_op():
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = _Cube.apply(x)
    assert type(y.grad_fn).__name__ == "_CubeBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_no_node_without_grad_and_scalars_become_arrays():
    y = _Cube.apply(L.tensor([2.0]))
    assert y.grad_fn is None and not y.requires_grad
    with L.no_grad():
        assert _Cube.apply(L.tensor([1.0], requires_grad=True)).grad_fn is None

    class _Sum(Op):
        @staticmethod
        def forward(ctx, a):
            return a.sum()  # a NumPy scalar

    s = _Sum.apply(L.tensor([1.0, 2.0]))
    assert isinstance(s._data, np.ndarray) and s.item() == 3.0


def test_in_place_change_of_a_saved_input_is_detected():
    x = L.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = _Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_sum_to_shape_unbroadcasts():
    g = np.ones((2, 3, 4))
    assert sum_to_shape(g, (3, 1)).tolist() == [[8.0]] * 3
    assert sum_to_shape(g, (2, 3, 4)) is g


# ---------------------------------------------------------------- Op.named
from lamina.ops.reduce import Sum  # noqa: E402
class _Twice(Op):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_named_variant_is_cached_and_keeps_forward_and_backward():
    v = _Twice.named("MulBackward0")
    assert v is _Twice.named("MulBackward0")  # made once
    assert v is not _Twice.named("MulBackward1")
    assert _Twice.named("_TwiceBackward0") is _Twice  # its own name: the op itself
    assert issubclass(v, _Twice) and v.forward is _Twice.forward and v.backward is _Twice.backward
    assert v.__name__ == "_Twice"  # errors that name the op still say _twice
    x = lamina.ones(3, requires_grad=True)
    y = v.apply(x)
    assert type(y.grad_fn).__name__ == y.grad_fn.name() == "MulBackward0"
    assert type(_Twice.apply(x).grad_fn).__name__ == "_TwiceBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_named_variants_of_one_op_have_distinct_node_classes():
    a, b = Sum.named("SumBackward1"), Sum.named("SumBackward7")
    assert a._node is not b._node is not Sum._node
    assert Sum._node.__name__ == "SumBackward0" and b._node.__name__ == "SumBackward7"
    # the variant used by sum(dim) is the cached one
    x = lamina.ones(2, 2, requires_grad=True)
    assert type(x.sum(0).grad_fn) is a._node


# ---------------------------------------------------------------- apply2, binary_method
from scenario import assert_same  # noqa: E402
from lamina.ops._op import binary_method  # noqa: E402
from lamina.ops.arithmetic import Add, Mul, Sub, add  # noqa: E402
from lamina.ops.linalg import MatMul  # noqa: E402

# the operators take the fast path (same float dtype, or a Python int / float) or fall back to
# the public function (promotion, bools, arrays, NumPy scalars): both must stay torch's
OPERATOR_SCENARIOS = {
    "same_dtype_grad": """
        a = m.tensor([[1., 2.], [3., 4.]], requires_grad=True); b = m.tensor([[.5, -1.], [2., 3.]])
        y = (a + b) * a - b @ a; y.sum().backward()
        names = [type(n).__name__ for n, _ in y.grad_fn.next_functions]
        out = (y, type(y.grad_fn).__name__, names, a.grad)""",
    "both_require_grad": """
        a = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        b = m.tensor([[.5, -1.], [2., 3.]], requires_grad=True)
        (a @ b + a * b - b).sum().backward(); out = (a.grad, b.grad)""",
    "python_scalars": """
        a = m.tensor([1., 2.], requires_grad=True)
        y = a + 1; z = a * 2.5; w = a - 3; v = 2 * a + 1.5 + a
        (y + z + w + v).sum().backward(); out = (y, z, w, v, a.grad)""",
    "half_and_double_scalars": """
        h = m.tensor([1., 2.], dtype=m.float16); d = m.tensor([1., 2.], dtype=m.float64)
        out = (h + 2.5, h * 3, d - 1, (h + h).dtype, (d * d).dtype)""",
    "promotion_falls_back": """
        f = m.tensor([1., 2.]); d = m.tensor([1., 2.], dtype=m.float64); i = m.tensor([1, 2])
        out = (f + d, d * f, f - i, i + 1.5, i * 2, i - i, f + True, m.tensor(2.) * i)""",
    "bool_sub_raises": "b = m.tensor([True, False]); b - b",
    "bool_float_sub_raises": "b = m.tensor([True, False]); b - 1.0",
    "no_grad_results": """
        a = m.ones(2, 2, requires_grad=True)
        with m.no_grad():
            y = a + a; z = a @ a; w = a * 2
        out = (y.requires_grad, z.requires_grad, w.requires_grad, y.grad_fn, z, w)""",
    "matmul_errors": """
        a = m.ones(2, 3)
        try:
            a @ m.ones(2, 3)
        except RuntimeError as e:
            out = str(e)
        a @ m.ones(3, 2, dtype=m.float64)""",
    "matmul_shapes": """
        a = m.arange(6.).reshape(2, 3)
        out = (a @ m.arange(3.), m.arange(2.) @ a, a @ a.T, m.ones(2, 2, 3) @ a.T)""",
}


@pytest.mark.parametrize("name", list(OPERATOR_SCENARIOS))
def test_operators_match_torch(name):
    assert_same(OPERATOR_SCENARIOS[name])


@pytest.mark.parametrize("op", [Add, Sub, Mul, MatMul])
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True), (False, False)])
def test_apply2_builds_the_node_apply_builds(op, rg):
    def make():
        a = lamina.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=rg[0])
        b = lamina.tensor([[0.5, -1.0], [2.0, 3.0]], requires_grad=rg[1])
        return a, b

    a1, b1 = make()
    a2, b2 = make()
    y1 = op.apply(a1, b1)
    y2 = op.apply2(a2, b2)
    np.testing.assert_array_equal(y1.numpy(force=True), y2.numpy(force=True))
    assert y1.requires_grad == y2.requires_grad == any(rg)
    if not any(rg):
        assert y1.grad_fn is None and y2.grad_fn is None
        return
    n1, n2 = y1.grad_fn, y2.grad_fn
    assert type(n1) is type(n2)
    assert n1.needs_input_grad == n2.needs_input_grad == list(rg)
    assert [e is None for e in n1.next] == [e is None for e in n2.next]
    assert len(n1.saved) == len(n2.saved)
    assert (n1._versions is None) == (n2._versions is None)
    y1.sum().backward()
    y2.sum().backward()
    for x1, x2 in ((a1, a2), (b1, b2)):
        if x1.requires_grad:
            np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())


def test_apply2_checks_devices_like_apply():
    a = lamina.ones(2)
    b = lamina.ones(2)
    b._device = lamina.device("cuda", 0)  # a tensor claiming another device, no CuPy needed
    with pytest.raises(RuntimeError) as e1:
        Add.apply(a, b)
    with pytest.raises(RuntimeError) as e2:
        Add.apply2(a, b)
    assert str(e1.value) == str(e2.value)
    assert "cpu and cuda:0" in str(e2.value)


def test_apply2_detects_in_place_change_of_saved_input():
    a = lamina.tensor([1.0, 2.0], requires_grad=True)
    b = lamina.tensor([3.0, 4.0])
    y = Mul.apply2(a, b)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_binary_method_takes_the_fallback_only_when_promotion_is_needed():
    calls = []

    def fallback(x, y):
        calls.append((x, y))
        return add(x, y)

    method = binary_method(Add, fallback)
    f = lamina.ones(2)
    assert method(f, f).tolist() == [2.0, 2.0]
    assert method(f, 2).tolist() == [3.0, 3.0]
    assert method(f, 0.5).tolist() == [1.5, 1.5]
    assert calls == []
    for other in (lamina.ones(2, dtype=lamina.float64), True, np.float32(1.0), [1.0, 1.0]):
        method(f, other)
    method(lamina.ones(2, dtype=lamina.int64), 1)
    assert len(calls) == 5
    assert method.__name__ == "fallback"


def test_operators_are_the_fast_methods():
    # `+`, `-`, `*` on Tensors are binary_method closures; `@` is linalg.matmul itself
    from lamina.ops.linalg import matmul

    assert lamina.Tensor.__matmul__ is matmul
    for name, fn in (("__add__", "add"), ("__radd__", "add"), ("__sub__", "sub"),
                     ("__mul__", "mul"), ("__rmul__", "mul")):
        method = getattr(lamina.Tensor, name)
        assert method.__code__ is binary_method(Add, add).__code__
        assert method.__name__ == fn


def test_unrecorded_is_forward_without_a_node():
    """Op.unrecorded (Add, Sub, Mul, Div, MatMul): what forward returns, with no ctx, for the
    calls that record no node; a recorded call still runs forward (and saves what backward
    needs); a subclass with its own forward does not inherit the shortcut."""
    from lamina.ops.arithmetic import Div

    rng = np.random.RandomState(0)
    cases = [(Add, (2, 3), (3,)), (Sub, (2, 1), (1, 3)), (Mul, (), ()), (Div, (4,), ()),
             (MatMul, (2, 3), (3, 4)), (MatMul, (5, 2, 3), (3,))]
    for op, sa, sb in cases:
        for dt in (np.float32, np.float64):
            a = np.asarray(rng.standard_normal(sa) + 3, dt)
            b = np.asarray(rng.standard_normal(sb) + 3, dt)
            ctx = Op._node.__new__(op._node)
            ctx.needs_input_grad = None
            ctx.saved = ()
            ctx.xp = np
            want = op.forward(ctx, a, b)
            got = op.unrecorded(a, b)
            assert np.asarray(got).dtype == np.asarray(want).dtype
            np.testing.assert_array_equal(got, want)
    x = lamina.randn(2, 3, requires_grad=True)
    y = lamina.randn(3, requires_grad=True)
    with lamina.no_grad():
        z = x + y
    assert z.grad_fn is None and not z.requires_grad and z._version_counter == [0]
    z = x + y  # recorded: forward keeps the shapes backward un-broadcasts to
    assert type(z.grad_fn).__name__ == "AddBackward0" and z.grad_fn.sy == (3,)
    z.sum().backward()
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    s = lamina.tensor(2.0) * lamina.tensor(3.0)  # 0-d: NumPy's scalar becomes a 0-d array
    assert isinstance(s._data, np.ndarray) and s.item() == 6.0

    class Twice(Add):
        @staticmethod
        def forward(ctx, x, y):
            return 2 * (x + y)

    assert Twice.unrecorded is None
    assert Twice.apply(lamina.ones(1), lamina.ones(1)).tolist() == [4.0]
