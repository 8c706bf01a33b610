"""In-place ops against torch: leaf rules, .data bypass, non-leaf recording, views, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from scenario import assert_same

import lamina

SCENARIOS = {
    "leaf_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x.add_(1)""",
    "leaf_setitem_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x[0] = 1.""",
    "leaf_index_put_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x[m.tensor([0])] = 1.""",
    "leaf_view_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x[0].mul_(2)""",
    "leaf_fill_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x.zero_()""",
    "leaf_random_raises": """
        x = m.tensor([1., 2.], requires_grad=True); x.normal_()""",
    "leaf_under_no_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        with m.no_grad():
            x[0] = 5.; x.add_(1); x.mul_(m.tensor([2., 3.])); x.clamp_(0, 10)
        out = (x, x.requires_grad, x.is_leaf, x.grad_fn)""",
    "data_bypass": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.data.add_(1); x.data[0] = 7.; out = (x, x.is_leaf)""",
    "data_setter": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.data = m.tensor([5., 6., 7.]); out = (x, x.shape, x.requires_grad)""",
    "chain_example": """
        x = m.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2; y.add_(1); y[0] = 5; y.sum().backward(); out = (y, x.grad)""",
    "mul_saves_old_value": """
        x = m.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2; y.mul_(y.detach() + 1); y.mul_(x); y.sum().backward(); out = (y, x.grad)""",
    "tensor_arg_requires_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = m.zeros(2); y.add_(x * 3); y.sum().backward(); out = (y, x.grad)""",
    "setitem_value_requires_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = m.zeros(3); y[1:] = x * x; y.sum().backward(); out = (y, x.grad)""",
    "setitem_mask": """
        x = m.tensor([-1., 2., -3.], requires_grad=True)
        y = x * 2; y[y < 0] = 0.; (y * y).sum().backward(); out = (y, x.grad)""",
    "setitem_int_tensor_mix": """
        x = m.arange(24.).reshape(2, 3, 4).requires_grad_()
        y = x * 1; y[1, :, m.tensor([0, 3])] = -1.; y.sum().backward(); out = (y, x.grad)""",
    "setitem_broadcast_value": """
        x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        v = m.tensor([10., 20.], requires_grad=True)
        y = x * 1; y[:, 1] = v; (y * y).sum().backward(); out = (y, x.grad, v.grad)""",
    "view_add_column": """
        x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 2; y[:, 0] += 1; (y * y).sum().backward(); out = (y, x.grad)""",
    "view_of_view": """
        x = m.arange(6.).reshape(2, 3).requires_grad_()
        y = x * 2; v = y.t()[1:]; v.mul_(3); w = y.view(6); (w * w).sum().backward()
        out = (y, x.grad)""",
    "view_then_old_view_grad": """
        x = m.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2; a = y[1:]; a.mul_(x[:2]); (y * y).sum().backward(); out = (y, x.grad)""",
    "view_arg_requires_grad_base_not": """
        w = m.tensor([1., 2.], requires_grad=True)
        b = m.zeros(3); v = b[1:]; v.add_(w * 2); b.sum().backward()
        out = (b, w.grad, b.requires_grad, v.requires_grad)""",
    "view_setitem_of_view": """
        x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x + 0; y[1][0] = 9.; (y * x).sum().backward(); out = (y, x.grad)""",
    "expand_write_raises": """
        e = m.ones(3, 1).expand(3, 4); e.add_(1)""",
    "zero_nonleaf": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.zero_(); (y + x).sum().backward(); out = (y, x.grad, y.requires_grad)""",
    "fill_nonleaf": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.fill_(3.); (y * x).sum().backward(); out = (y, x.grad)""",
    "fill_tensor_value_grad": """
        v = m.tensor(2., requires_grad=True)
        y = m.zeros(3); y.fill_(v); (y * m.tensor([1., 2., 3.])).sum().backward()
        out = (y, v.grad)""",
    "copy_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = m.zeros(2, 2); y.copy_(x); (y * m.tensor([[1., 2.], [3., 4.]])).sum().backward()
        out = (y, x.grad)""",
    "copy_casts": """
        y = m.zeros(3, dtype=m.int64); y.copy_(m.tensor([1.7, -2.2, 3.])); out = y""",
    "copy_shape_error": """
        y = m.zeros(3); y.copy_(m.ones(2))""",
    "add_broadcast_error": """
        y = m.zeros(3); y.add_(m.ones(2, 3))""",
    "add_float_into_int_error": """
        y = m.zeros(3, dtype=m.int64); y.add_(1.5)""",
    "div_int_error": """
        y = m.ones(3, dtype=m.int64); y.div_(2)""",
    "add_int_into_float": """
        y = m.zeros(3); y.add_(m.tensor([1, 2, 3])); out = y""",
    "add_double_into_float": """
        y = m.zeros(3); y += m.tensor([1., 2., 3.], dtype=m.float64); out = y""",
    "add_alpha": """
        y = m.ones(2); y.add_(m.tensor([1., 2.]), alpha=-0.5); y.sub_(1, alpha=2); out = y""",
    "iadd_keeps_identity": """
        y = m.ones(2); z = y; y += 1; y *= 3; y -= 1; y /= 2; out = (z is y, y)""",
    "clamp_": """
        y = m.tensor([-2., 0.5, 3.]); y.clamp_(min=0, max=1); out = y""",
    "exp_nonleaf": """
        x = m.tensor([0.5, 1.], requires_grad=True)
        y = x * 1; y.exp_(); y.sum().backward(); out = (y, x.grad)""",
    "masked_fill_": """
        x = m.tensor([1., -2., 3.], requires_grad=True)
        y = x * 1; y.masked_fill_(y < 0, 0.); (y * y).sum().backward(); out = (y, x.grad)""",
    "pow_and_sqrt_": """
        x = m.tensor([1., 4.], requires_grad=True)
        y = x + 0; y.pow_(2); y.sqrt_(); y.sum().backward(); out = (y, x.grad)""",
    "random_fill_nonleaf_grad_is_zero": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.uniform_(); (y + x).sum().backward(); out = (x.grad, y.requires_grad)""",
    "inplace_on_int_no_grad": """
        y = m.tensor([1, 2, 3]); y[y > 1] = 0; y.mul_(3); out = y""",
    "version_counts": """
        y = m.ones(3); a = y._version; y.add_(1); y[0] = 2.; y.zero_(); out = (a, y._version)""",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_inplace_matches_torch(name):
    assert_same(SCENARIOS[name])


def test_random_fill_refusal_leaves_generator_alone():
    x = lamina.ones(3, requires_grad=True)
    lamina.manual_seed(3)
    with pytest.raises(RuntimeError):
        x.normal_()
    a = lamina.randn(3)
    lamina.manual_seed(3)
    b = lamina.randn(3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fast_path_writes_same_memory():
    base = np.zeros(3, np.float32)
    t = lamina.from_numpy(base)
    t.add_(2).mul_(3)
    t[1] = 7
    np.testing.assert_array_equal(base, [6.0, 7.0, 6.0])


# ---------------------------------------------------------------------- out= (issue 11)
def test_out_writes_resizes_and_returns_out():
    import torch

    for fn in (lambda m, o: m.add(m.ones(3), 2, out=o), lambda m, o: m.sub(m.ones(3), 2, out=o),
               lambda m, o: m.cat([m.ones(2), m.zeros(1)], out=o),
               lambda m, o: m.stack([m.ones(2), m.zeros(2)], 1, out=o),
               lambda m, o: m.norm(m.ones(4), 2, out=o)):
        o_t, o_l = torch.empty(0), lamina.empty(0)
        assert fn(lamina, o_l) is o_l
        fn(torch, o_t)
        np.testing.assert_allclose(o_l.numpy(), o_t.numpy())
    o = lamina.zeros(5)
    with pytest.warns(UserWarning, match="was resized"):
        lamina.add(lamina.ones(2), 1, out=o)
    assert o.shape == (2,)


def test_out_errors_like_torch():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        lamina.add(lamina.ones(2), 0.5, out=lamina.zeros(2, dtype=lamina.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        lamina.add(lamina.ones(2, requires_grad=True), 1, out=lamina.zeros(2))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        lamina.add(lamina.ones(2), 1, out=[0, 0])
    with lamina.no_grad():
        o = lamina.zeros(2)
        lamina.add(lamina.ones(2, requires_grad=True), 1, out=o)
    assert o.numpy().tolist() == [2.0, 2.0]
