"""ops/_op.py: Op.apply and Op.apply2 (two Tensors), binary_method (the operators' fast path)."""

from __future__ import annotations

import numpy as np
import pytest
from scenario import assert_same

import lamina
from lamina.ops._op import binary_method
from lamina.ops.elementwise import Add, Mul, Sub, add
from lamina.ops.linalg import MatMul

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
